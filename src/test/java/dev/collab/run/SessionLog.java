package dev.collab.run;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import dev.collab.support.Api;
import tools.jackson.databind.JsonNode;

/** A session's whole event log as a client reads it: the history endpoint, page by page. */
final class SessionLog {

    private SessionLog() {
    }

    static List<JsonNode> events(Api api, UUID session) {
        List<JsonNode> events = new ArrayList<>();
        long after = 0;
        while (true) {
            Api.Response page = api.get("/api/sessions/" + session + "/events?after=" + after + "&limit=100");
            if (page.status() != 200) {
                throw new IllegalStateException("history answered " + page);
            }
            JsonNode items = page.json().get("items");
            if (items.isEmpty()) {
                return events;
            }
            for (JsonNode item : items) {
                events.add(item);
                after = item.get("seq").asLong();
            }
        }
    }

    /** The text of every {@code output} event of a stream, in log order. */
    static String output(List<JsonNode> events, String stream) {
        StringBuilder text = new StringBuilder();
        events.stream().filter(event -> event.get("type").asString().equals("output"))
                .filter(event -> event.get("data").get("stream").asString().equals(stream))
                .forEach(event -> text.append(event.get("data").get("text").asString()));
        return text.toString();
    }

    static boolean finished(List<JsonNode> events) {
        return events.stream().anyMatch(event -> event.get("type").asString().equals("run.finished"));
    }
}
