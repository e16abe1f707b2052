package dev.collab.event;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Several events in one statement: consecutive seqs in the given order, the head moved
 * once, all or nothing.
 */
@IntegrationTest
class EventLogAppendAllTest {

    @Autowired
    EventLog eventLog;

    @Autowired
    Api api;

    @Test
    void eventsGetConsecutiveSeqsInTheirOrder() {
        UUID session = api.newSession(api.newProject("all"));
        List<EventLog.NewEvent> batch = new java.util.ArrayList<>();
        for (int i = 0; i < 16; i++) {
            batch.add(new EventLog.NewEvent(i % 2 == 0 ? "agent.text" : "tool.call", Map.of("n", i)));
        }

        List<Event> appended = eventLog.appendAll(session, batch);

        assertThat(appended).extracting(Event::seq)
            .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(2, 17).boxed().toList());
        JsonNode page = api.get("/api/sessions/" + session + "/events?after=1").json();
        assertThat(page.get("headSeq").asLong()).isEqualTo(17);
        for (int i = 0; i < 16; i++) {
            JsonNode event = page.get("items").get(i);
            assertThat(event.get("seq").asLong()).isEqualTo(i + 2);
            assertThat(event.get("type").asString()).isEqualTo(i % 2 == 0 ? "agent.text" : "tool.call");
            assertThat(event.get("data").get("n").asInt()).isEqualTo(i);
            assertThat(appended.get(i).type()).isEqualTo(event.get("type").asString());
        }
    }

    @Test
    void aClosedLogTakesNoneOfThem() {
        UUID session = api.newSession(api.newProject("allclosed"));
        assertThat(api.delete("/api/sessions/" + session).status()).isEqualTo(204);
        long head = api.get("/api/sessions/" + session).json().get("headSeq").asLong();

        assertThatThrownBy(
                () -> eventLog.appendAll(session, List.of(new EventLog.NewEvent("agent.text", Map.of("text", "late")))))
            .isInstanceOf(LogClosedException.class);
        assertThat(api.get("/api/sessions/" + session).json().get("headSeq").asLong()).isEqualTo(head);
        assertThatThrownBy(() -> eventLog.appendAll(UUID.randomUUID(),
                List.of(new EventLog.NewEvent("agent.text", Map.of("text", "x")))))
            .isInstanceOf(IllegalArgumentException.class);
    }

}
