package dev.collab.run;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import dev.collab.event.LogClosedException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Batching a run's output into {@code output} events: by size at once, by time on the
 * flush tick, stdout and stderr apart.
 */
class OutputBatcherTest {

    static final int MAX_CHARS = 256;

    record Appended(String stream, String text) {
    }

    final List<Appended> appended = Collections.synchronizedList(new ArrayList<>());

    final AtomicInteger failures = new AtomicInteger();

    final List<Long> drops = Collections.synchronizedList(new ArrayList<>());

    OutputBatcher.Appender appender = (stream, text) -> appended.add(new Appended(stream, text));

    OutputBatcher batcher() {
        RunnerProperties properties = new RunnerProperties(List.of(), Duration.ofMinutes(30), Duration.ofSeconds(1),
                Duration.ofSeconds(3), Duration.ofMillis(30), MAX_CHARS, 4 * MAX_CHARS, List.of("PATH"), "text");
        return new OutputBatcher(UUID.randomUUID(), (stream, text) -> appender.append(stream, text), properties,
                new OutputBudget(properties.outputMaxPendingChars()), failures::incrementAndGet, drops::add);
    }

    /** An agent that is still running for {@code ticks} flush ticks, then exits. */
    static OutputBatcher.Exit exitAfter(int ticks) {
        AtomicInteger left = new AtomicInteger(ticks);
        return millis -> left.getAndDecrement() <= 0;
    }

    @Test
    void aFullBatchIsAppendedAtOnceInBatchesOfAtMostMaxChars() {
        OutputBatcher batcher = batcher();
        batcher.add("stdout", "a".repeat(600));
        assertThat(appended).extracting(a -> a.text().length()).containsExactly(256, 256, 88);
        assertThat(appended).allMatch(a -> a.stream().equals("stdout"));
    }

    @Test
    void lessThanABatchWaitsForTheFlushTick() throws InterruptedException {
        OutputBatcher batcher = batcher();
        batcher.add("stdout", "hello\n");
        assertThat(appended).as("below output-max-chars: nothing yet").isEmpty();

        assertThat(batcher.flushUntilExit(exitAfter(1), Duration.ofMinutes(1))).as("the agent exited").isTrue();
        assertThat(appended).containsExactly(new Appended("stdout", "hello\n"));
    }

    @Test
    void eachTickAppendsWhatArrivedSinceTheLastOne() throws InterruptedException {
        OutputBatcher batcher = batcher();
        AtomicInteger tick = new AtomicInteger();
        OutputBatcher.Exit exit = millis -> {
            int n = tick.incrementAndGet();
            if (n <= 3) {
                batcher.add("stdout", "line " + n + "\n"); // the agent prints between
                                                           // ticks
            }
            return n > 3;
        };
        batcher.flushUntilExit(exit, Duration.ofMinutes(1));
        assertThat(appended).extracting(Appended::text).containsExactly("line 1\n", "line 2\n", "line 3\n");
    }

    @Test
    void stdoutAndStderrAreBatchedApart() {
        OutputBatcher batcher = batcher();
        batcher.add("stdout", "out\n");
        batcher.add("stderr", "err\n");
        batcher.add("stdout", "more out\n");
        batcher.flush();
        assertThat(appended).containsExactly(new Appended("stdout", "out\nmore out\n"),
                new Appended("stderr", "err\n"));
    }

    @Test
    void aFailedAppendKeepsTheOutputForTheNextTick() {
        OutputBatcher batcher = batcher();
        AtomicInteger calls = new AtomicInteger();
        appender = (stream, text) -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("database unavailable");
            }
            appended.add(new Appended(stream, text));
        };
        batcher.add("stdout", "kept\n");
        batcher.flushQuietly();
        assertThat(appended).isEmpty();
        assertThat(failures).hasValue(1);

        batcher.flushQuietly();
        assertThat(appended).containsExactly(new Appended("stdout", "kept\n"));
        assertThat(drops).isEmpty();
    }

    @Test
    void aFailedAppendThrowsFromAnExplicitFlush() {
        OutputBatcher batcher = batcher();
        appender = (stream, text) -> {
            throw new IllegalStateException("database unavailable");
        };
        batcher.add("stdout", "x");
        assertThatThrownBy(batcher::flush).hasMessage("database unavailable");
    }

    @Test
    void onceTheLogIsClosedNothingMoreIsAppended() {
        OutputBatcher batcher = batcher();
        appender = (stream, text) -> {
            throw new LogClosedException(UUID.randomUUID());
        };
        batcher.add("stdout", "first\n");
        batcher.flush();
        appender = (stream, text) -> appended.add(new Appended(stream, text));
        batcher.add("stdout", "late\n");
        batcher.flush();
        assertThat(appended).isEmpty();
    }

    @Test
    void closedOutputIsNotAppended() {
        OutputBatcher batcher = batcher();
        batcher.add("stdout", "x\n");
        batcher.close();
        batcher.flush();
        assertThat(appended).isEmpty();
        assertThat(batcher.discard()).isZero();
    }

}
