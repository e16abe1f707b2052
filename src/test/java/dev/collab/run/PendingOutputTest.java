package dev.collab.run;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Output waits until its append succeeded; past the server's budget, and only while
 * appends fail, the oldest goes, and a marker line at the gap says how much.
 */
class PendingOutputTest {

    /** The bytes of every drop, as reported. */
    final List<Long> drops = new ArrayList<>();

    boolean failing = true;

    PendingOutput output(OutputBudget budget) {
        return new PendingOutput("stdout", budget, () -> failing, drops::add);
    }

    PendingOutput output(int budget) {
        return output(new OutputBudget(budget));
    }

    static String marker(long bytes) {
        return "[collab-server: " + bytes
                + " bytes of output dropped here; the database could not take them in time]\n";
    }

    @Test
    void aFailedAppendKeepsTheBatchForTheNextAttempt() {
        PendingOutput output = output(1000);
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
        PendingOutput output = output(1000);
        output.add("ab\uD83D\uDE00cd"); // a, b, 😀 (two chars), c, d

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
        PendingOutput output = output(20);
        output.add("é123456789"); // é is 2 bytes in UTF-8
        output.add("0123456789");
        output.add("ABCDEFGHIJ"); // 30 waiting: the oldest 10 chars (11 bytes) go

        PendingOutput.Batch batch = output.next(100);

        assertThat(batch.text()).isEqualTo(marker(11) + "0123456789ABCDEFGHIJ");
        output.appended(batch);
        assertThat(output.droppedTotal()).isEqualTo(11);
        assertThat(output.next(100)).as("the marker is written once").isNull();
    }

    @Test
    void dropsAreReportedAsTheyHappenNotWhenTheRunEnds() {
        PendingOutput output = output(10);
        output.add("0123456789");
        output.add("abc");
        output.add("é");

        assertThat(drops).containsExactly(3L, 1L);
    }

    @Test
    void whileAppendsWorkNothingIsDroppedPastTheBudget() {
        failing = false; // the pump waits for the database instead (backpressure)
        PendingOutput output = output(10);
        output.add("0123456789");
        output.add("ABCDEFGHIJ");

        PendingOutput.Batch batch = output.next(100);
        assertThat(batch.text()).isEqualTo("0123456789ABCDEFGHIJ");
        assertThat(drops).isEmpty();
    }

    @Test
    void theBudgetIsSharedByAllRuns() {
        OutputBudget budget = new OutputBudget(20);
        PendingOutput quiet = output(budget);
        PendingOutput chatty = output(budget);
        quiet.add("q".repeat(15));
        chatty.add("0123456789"); // 25 held: the run that prints gives up its own oldest
                                  // 5

        assertThat(budget.used()).isEqualTo(20);
        assertThat(chatty.next(100).text()).isEqualTo(marker(5) + "56789");
        assertThat(quiet.next(100).text()).isEqualTo("q".repeat(15));

        quiet.appended(quiet.next(100));
        chatty.appended(chatty.next(100));
        assertThat(budget.used()).as("appended output leaves the budget").isZero();
    }

    @Test
    void theBatchBeingAppendedIsNotDroppedUnderIt() {
        PendingOutput output = output(10);
        output.add("abcdefghij");
        PendingOutput.Batch inFlight = output.next(4); // "abcd" is being appended
        output.add("KLMN"); // 14 waiting: 4 go, after the batch

        output.appended(inFlight);
        PendingOutput.Batch next = output.next(100);

        assertThat(inFlight.text()).isEqualTo("abcd");
        // "abcd" did not end its line: the marker starts a line of its own.
        assertThat(next.text()).isEqualTo("\n" + marker(4) + "ijKLMN");
        assertThat(output.droppedTotal()).isEqualTo("efgh".getBytes(StandardCharsets.UTF_8).length);
        output.appended(next);
        assertThat(output.next(100)).isNull();
    }

    @Test
    void theMarkerStaysWhereTheGapIsWhenTheBatchBeforeItFails() {
        PendingOutput output = output(10);
        output.add("AAAA");
        PendingOutput.Batch inFlight = output.next(100); // "AAAA" is being appended…
        output.add("BBBBBBBB"); // 12 waiting: "BB" goes, after "AAAA"
        output.failed(); // …and its append fails

        PendingOutput.Batch retry = output.next(100);
        assertThat(retry.text()).as("the batch stops at the gap").isEqualTo("AAAA");
        output.appended(retry);
        PendingOutput.Batch after = output.next(100);
        assertThat(after.text()).isEqualTo("\n" + marker(2) + "BBBBBB");
        output.appended(after);
        assertThat(inFlight.text() + "\n" + marker(2) + "BBBBBB").isEqualTo(retry.text() + after.text());
        assertThat(output.next(100)).isNull();
    }

    @Test
    void aMarkerAtTheStartOfALineHasNoEmptyLineBeforeIt() {
        PendingOutput output = output(10);
        output.add("done 1\n");
        output.appended(output.next(100));
        output.add("0123456789");
        output.add("abc"); // the oldest 3 go, right after "done 1\n"

        assertThat(output.next(100).text()).isEqualTo(marker(3) + "3456789abc");
    }

    @Test
    void givingUpLeavesOnlyTheMarkerAndCountsEverything() {
        failing = false;
        OutputBudget budget = new OutputBudget(1000);
        PendingOutput output = output(budget);
        output.add("not yet appended\n");

        assertThat(output.dropAll()).isEqualTo(17);

        assertThat(drops).containsExactly(17L);
        assertThat(budget.used()).isZero();
        PendingOutput.Batch last = output.next(100);
        assertThat(last.text()).isEqualTo(marker(17));
        output.appended(last);
        assertThat(output.next(100)).isNull();
    }

    @Test
    void afterTheRunLetGoNothingIsHeldAnyMore() {
        OutputBudget budget = new OutputBudget(1000);
        PendingOutput output = output(budget);
        output.add("waiting\n");

        assertThat(output.discard()).isEqualTo(8);
        output.add("a pump that was still reading\n");

        assertThat(budget.used()).isZero();
        assertThat(output.next(100)).isNull();
    }

    @Test
    void inLineModeABatchIsOneWholeLineAndADropTakesWholeLines() {
        PendingOutput events = new PendingOutput("events", true, new OutputBudget(30), () -> failing, drops::add);
        events.add("{\"a\":1}\n");
        events.add("{\"b\":22222222222}\n");
        // 8 + 19 = 27 chars: within the budget.
        assertThat(drops).isEmpty();
        PendingOutput.Batch first = events.next(4);
        assertThat(first.text()).as("a whole line even past maxChars").isEqualTo("{\"a\":1}\n");
        events.failed();
        // 5 chars over the budget while appends fail: the oldest line goes, whole
        // (nothing
        // is in flight after the failure).
        events.add("{\"c\":3}\n");
        assertThat(drops).containsExactly(8L);
        PendingOutput.Batch marker = events.next(100);
        assertThat(marker.text()).isEqualTo(marker(8));
        assertThat(marker.chars()).isZero();
        events.appended(marker);
        assertThat(events.batchesWaiting(100)).isEqualTo(3);
        // As many whole lines as fit.
        assertThat(events.next(100).text()).isEqualTo("{\"b\":22222222222}\n{\"c\":3}\n");
        PendingOutput.Batch second = events.next(20);
        assertThat(second.text()).isEqualTo("{\"b\":22222222222}\n");
        events.appended(second);
        assertThat(events.next(100).text()).isEqualTo("{\"c\":3}\n");
    }

}
