package dev.collab.run;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.collab.support.Api;
import dev.collab.support.SseClient;
import tools.jackson.databind.JsonNode;

/**
 * A session's whole event log as a client reads it: the history endpoint, page by page.
 */
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

    /**
     * Reads the session's live stream from the start until the n-th run.finished; fails
     * when it has not come within {@code wait}.
     */
    static List<SseClient.Message> untilFinished(Api api, UUID session, int runs, Duration wait) {
        List<SseClient.Message> messages = new ArrayList<>();
        int finished = 0;
        try (SseClient client = SseClient.connect(api.uri("/api/sessions/" + session + "/events/stream"), null)) {
            long deadline = System.nanoTime() + wait.toNanos();
            while (System.nanoTime() < deadline) {
                SseClient.Message message = client.next(Duration.ofSeconds(1));
                if (message == null) {
                    continue;
                }
                messages.add(message);
                if (message.event().equals("run.finished") && ++finished == runs) {
                    return messages;
                }
            }
        }
        throw new AssertionError("no run.finished: " + messages);
    }

    /** The data of the stream's messages of one type, in order. */
    static List<JsonNode> data(List<SseClient.Message> messages, String type) {
        return messages.stream().filter(m -> m.event().equals(type)).map(m -> m.json().get("data")).toList();
    }

    /** The text of every {@code output} event of a stream, in log order. */
    static String output(List<JsonNode> events, String stream) {
        StringBuilder text = new StringBuilder();
        events.stream()
            .filter(event -> event.get("type").asString().equals("output"))
            .filter(event -> event.get("data").get("stream").asString().equals(stream))
            .forEach(event -> text.append(event.get("data").get("text").asString()));
        return text.toString();
    }

    static boolean finished(List<JsonNode> events) {
        return events.stream().anyMatch(event -> event.get("type").asString().equals("run.finished"));
    }

    /**
     * The gap markers found in a stream's text: how many, and the bytes they say were
     * dropped.
     */
    record Gaps(int markers, long bytes) {
    }

    private static final Pattern MARKER = Pattern
        .compile("\\[collab-server: (\\d+) bytes of output dropped here; the database could not take them in time]\n");

    /**
     * Checks that {@code actual} is what the agent printed ({@code expected}, ASCII) with
     * each gap replaced by its marker: the text between markers is exactly what was
     * printed there, and each marker's bytes are exactly the ones missing at its place;
     * fails otherwise.
     */
    static Gaps gaps(String expected, String actual) {
        Matcher marker = MARKER.matcher(actual);
        int cursor = 0;
        int segmentStart = 0;
        long bytes = 0;
        int markers = 0;
        while (marker.find()) {
            cursor = follow(expected, cursor, actual.substring(segmentStart, marker.start()), true);
            long dropped = Long.parseLong(marker.group(1));
            cursor += (int) dropped; // ASCII: a byte is a char
            bytes += dropped;
            markers++;
            segmentStart = marker.end();
        }
        cursor = follow(expected, cursor, actual.substring(segmentStart), false);
        if (cursor != expected.length()) {
            throw new AssertionError("the log ends at " + cursor + " of " + expected.length() + " printed characters");
        }
        return new Gaps(markers, bytes);
    }

    /**
     * Before a marker the segment may end with the line break the marker starts with (a
     * gap mid-line).
     */
    private static int follow(String expected, int cursor, String segment, boolean beforeMarker) {
        if (expected.startsWith(segment, cursor)) {
            return cursor + segment.length();
        }
        String withoutBreak = segment.endsWith("\n") ? segment.substring(0, segment.length() - 1) : null;
        if (beforeMarker && withoutBreak != null && !withoutBreak.endsWith("\n")
                && expected.startsWith(withoutBreak, cursor)) {
            return cursor + withoutBreak.length();
        }
        throw new AssertionError("at " + cursor + " expected "
                + expected.substring(cursor, Math.min(expected.length(), cursor + 40)).replace("\n", "\\n")
                + "… but the log has " + segment.substring(0, Math.min(segment.length(), 40)).replace("\n", "\\n")
                + "…");
    }

}
