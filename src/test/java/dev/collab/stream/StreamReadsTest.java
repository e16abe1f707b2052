package dev.collab.stream;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import dev.collab.web.DatabaseBusyException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The streams' reads queue for their turn instead of failing, and never run more than
 * their share at once.
 */
class StreamReadsTest {

    SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void readsBeyondTheLimitWaitTheirTurnAndAllComplete() throws Exception {
        StreamReads reads = new StreamReads(2, Duration.ofMinutes(5), registry);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        int count = 40;
        List<Future<Integer>> results = new ArrayList<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < count; i++) {
                int n = i;
                results.add(threads.submit(() -> reads.read("replay", () -> {
                    most.accumulateAndGet(running.incrementAndGet(), Math::max);
                    try {
                        release.await();
                    }
                    catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    running.decrementAndGet();
                    return n;
                })));
            }
            await().atMost(Duration.ofSeconds(30))
                .until(() -> registry.get("collab.stream.reads.waiting").gauge().value() == count - 2);
            assertThat(registry.get("collab.stream.reads.active").gauge().value()).isEqualTo(2);
            release.countDown();
            for (int i = 0; i < count; i++) {
                assertThat(results.get(i).get()).isEqualTo(i);
            }
        }
        assertThat(most.get()).as("at most the limit at once").isEqualTo(2);
        assertThat(registry.get("collab.stream.reads").tag("purpose", "replay").counter().count()).isEqualTo(count);
    }

    @Test
    void aReadThatGetsNoTurnInTimeIsDatabaseBusy() throws Exception {
        StreamReads reads = new StreamReads(1, Duration.ofMillis(200), registry);
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<String> first = threads.submit(() -> reads.read("head", () -> {
                holding.countDown();
                try {
                    release.await();
                }
                catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return "first";
            }));
            holding.await();
            assertThatThrownBy(() -> reads.read("head", () -> "second")).isInstanceOf(DatabaseBusyException.class);
            assertThat(registry.get("collab.stream.reads.queue.timeouts").counter().count()).isEqualTo(1);
            release.countDown();
            assertThat(first.get()).isEqualTo("first");
        }
        assertThat(reads.read("head", () -> "third")).isEqualTo("third");
    }

    @Test
    void theLimitStaysAtMostHalfThePool() {
        assertThat(StreamReads.effectiveLimit(8, 20)).isEqualTo(8);
        assertThat(StreamReads.effectiveLimit(8, 4)).isEqualTo(2);
        assertThat(StreamReads.effectiveLimit(8, 1)).isEqualTo(1);
        assertThat(StreamReads.effectiveLimit(3, Integer.MAX_VALUE)).isEqualTo(3);
    }

}
