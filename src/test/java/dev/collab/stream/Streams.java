package dev.collab.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.LongStream;

import dev.collab.event.EventLog;
import dev.collab.support.Api;
import dev.collab.support.SseClient;

/**
 * What the stream tests of this package share: open a stream, append filler events, check
 * seqs.
 */
final class Streams {

    private Streams() {
    }

    static SseClient open(Api api, UUID session, long cursor) {
        return SseClient.connect(api.uri("/api/sessions/" + session + "/events/stream"), Long.toString(cursor));
    }

    /** Appends {@code count} output events of {@code size} characters each. */
    static void appendOutput(EventLog eventLog, UUID session, int count, int size) {
        String text = "x".repeat(size);
        for (int i = 0; i < count; i++) {
            eventLog.append(session, "output", Map.of("runId", session.toString(), "stream", "stdout", "text", text));
        }
    }

    static void assertConsecutive(List<SseClient.Message> messages, long from, long to) {
        assertThat(messages).extracting(SseClient.Message::seq)
            .containsExactlyElementsOf(LongStream.rangeClosed(from, to).boxed().toList());
    }

}
