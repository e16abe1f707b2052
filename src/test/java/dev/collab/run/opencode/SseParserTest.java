package dev.collab.run.opencode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;

import dev.collab.run.opencode.SseParser.SseEvent;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The event stream format as opencode (and any SSE server) writes it.
 */
class SseParserTest {

    private static List<SseEvent> parse(String stream, int max) throws IOException {
        SseParser parser = new SseParser(max);
        List<SseEvent> events = new ArrayList<>();
        BufferedReader reader = new BufferedReader(new StringReader(stream));
        String line;
        while ((line = reader.readLine()) != null) {
            parser.line(line).ifPresent(events::add);
        }
        parser.end();
        return events;
    }

    @Test
    void dataLinesEndedByABlankLineAreOneEvent() throws IOException {
        assertThat(parse("data: {\"type\":\"a\"}\n\ndata: one\ndata: two\n\n", 1000)).containsExactly(
                new SseEvent("message", "{\"type\":\"a\"}", false), new SseEvent("message", "one\ntwo", false));
    }

    @Test
    void crLfAndCrEndLinesToo() throws IOException {
        assertThat(parse("data: a\r\n\r\ndata: b\r\rdata: c\n\n", 1000)).extracting(SseEvent::data)
            .containsExactly("a", "b", "c");
    }

    @Test
    void commentsIdsAndUnknownFieldsAreSkippedAndTheEventFieldNamesTheType() throws IOException {
        assertThat(parse(": heartbeat\nid: 7\nretry: 100\nevent: ping\nfoo: bar\ndata: x\n\n", 1000))
            .containsExactly(new SseEvent("ping", "x", false));
    }

    @Test
    void onlyOneLeadingSpaceIsTheSeparatorAndAFieldWithoutColonIsEmpty() throws IOException {
        assertThat(parse("data:  two spaces\ndata\ndata:none\n\n", 1000)).extracting(SseEvent::data)
            .containsExactly(" two spaces\n\nnone");
    }

    @Test
    void blankLinesWithoutDataAndAnUnfinishedLastEventDispatchNothing() throws IOException {
        assertThat(parse("\n\n: only a comment\n\ndata: never ended", 1000)).isEmpty();
    }

    @Test
    void dataPastTheLimitIsCutAndMarked() throws IOException {
        assertThat(parse("data: 0123456789\ndata: abc\n\ndata: ok\n\n", 12))
            .containsExactly(new SseEvent("message", "0123456789\na", true), new SseEvent("message", "ok", false));
    }

}
