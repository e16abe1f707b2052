package dev.collab.run;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Output waits until its append succeeded; past the bound the oldest goes, and a marker says how much. */
class PendingOutputTest {

    @Test
    void aFailedAppendKeepsTheBatchForTheNextAttempt() {
        PendingOutput output = new PendingOutput("stdout", 1000);
        output.add("line 1\nline 2\n");

        PendingOutput.Batch first = output.next(100);
        output.failed();
        output.add("line 3\n");
        PendingOutput.Batch again = output.next(100);

        assertThat(first.text()).isEqualTo("line 1\nline 2\n");
        assertThat(again.text()).isEqualTo("line 1\nline 2\nline 3\n");
        output.appended(again);
        assertThat(output.next(100)).isNull();
    }

    @Test
    void batchesAreBoundedAndNeverSplitACharacter() {
        PendingOutput output = new PendingOutput("stdout", 1000);
        output.add("ab\uD83D\uDE00cd");   // a, b, 😀 (two chars), c, d

        PendingOutput.Batch first = output.next(3);
        assertThat(first.text()).isEqualTo("ab");
        output.appended(first);
        PendingOutput.Batch second = output.next(3);
        assertThat(second.text()).isEqualTo("\uD83D\uDE00c");
        output.appended(second);
        assertThat(output.next(3).text()).isEqualTo("d");
    }

    @Test
    void pastTheBoundTheOldestIsReplacedByOneMarkerWithTheBytesDropped() {
        PendingOutput output = new PendingOutput("stdout", 20);
        output.add("é123456789");   // é is 2 bytes in UTF-8
        output.add("0123456789");
        output.add("ABCDEFGHIJ");   // 30 waiting: the oldest 10 chars (11 bytes) go

        PendingOutput.Batch batch = output.next(100);

        assertThat(batch.text()).isEqualTo(
                "[collab-server: 11 bytes of output dropped here; the database could not take them in time]\n"
                        + "0123456789ABCDEFGHIJ");
        output.appended(batch);
        assertThat(output.droppedTotal()).isEqualTo(11);
        assertThat(output.next(100)).as("the marker is written once").isNull();
    }

    @Test
    void theBatchBeingAppendedIsNotDroppedUnderIt() {
        PendingOutput output = new PendingOutput("stdout", 10);
        output.add("abcdefghij");
        PendingOutput.Batch inFlight = output.next(4);   // "abcd" is being appended
        output.add("KLMN");                               // 14 waiting: 4 go, after the batch

        output.appended(inFlight);
        PendingOutput.Batch next = output.next(100);

        assertThat(inFlight.text()).isEqualTo("abcd");
        assertThat(next.text()).isEqualTo(
                "[collab-server: 4 bytes of output dropped here; the database could not take them in time]\n"
                        + "ijKLMN");
        assertThat(output.droppedTotal()).isEqualTo("efgh".getBytes(StandardCharsets.UTF_8).length);
        output.appended(next);
        assertThat(output.next(100)).isNull();
    }
}
