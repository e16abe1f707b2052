package dev.collab.run;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Stops racing each other: one reason is recorded, by the call told so, and the agent is
 * killed once.
 */
class StopRequestTest {

    @Test
    void theFirstReasonWinsAndLaterStopsDoNotKillAgain() {
        AtomicInteger kills = new AtomicInteger();
        StopRequest stop = new StopRequest(Runnable::run);

        assertThat(stop.reason()).isNull();
        assertThat(stop.request(StopReason.INTERRUPT, kills::incrementAndGet)).isTrue();
        // What every lease tick of a run that lost its lease does, and then the timeout.
        for (int tick = 0; tick < 10; tick++) {
            assertThat(stop.request(StopReason.INTERRUPT, kills::incrementAndGet)).isFalse();
        }
        assertThat(stop.request(StopReason.TIMEOUT, kills::incrementAndGet)).isFalse();

        assertThat(stop.reason()).isEqualTo(StopReason.INTERRUPT);
        assertThat(kills).hasValue(1);
    }

    /**
     * The user of a user's interrupt is kept with its reason ({@code run.finished}'s
     * {@code data.by}), only when theirs was the first stop.
     */
    @Test
    void theUserOfTheFirstStopIsKeptWithItsReason() {
        StopRequest byUser = new StopRequest(Runnable::run);
        assertThat(byUser.by()).isNull();
        assertThat(byUser.request(StopReason.INTERRUPT, "ada", () -> {
        })).isTrue();
        assertThat(byUser.request(StopReason.INTERRUPT, "bob", () -> {
        })).isFalse();
        assertThat(byUser.reason()).isEqualTo(StopReason.INTERRUPT);
        assertThat(byUser.by()).isEqualTo("ada");

        StopRequest timedOut = new StopRequest(Runnable::run);
        timedOut.request(StopReason.TIMEOUT, () -> {
        });
        timedOut.request(StopReason.INTERRUPT, "ada", () -> {
        });
        assertThat(timedOut.reason()).isEqualTo(StopReason.TIMEOUT);
        assertThat(timedOut.by()).as("the timeout stopped it, not ada").isNull();
    }

    @RepeatedTest(50)
    void concurrentStopsRecordExactlyTheReasonOfTheOneThatWon() throws Exception {
        AtomicInteger kills = new AtomicInteger();
        StopRequest stop = new StopRequest(Runnable::run);
        StopReason[] reasons = StopReason.values();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        List<StopReason> winners = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 12; i++) {
            StopReason reason = reasons[i % reasons.length];
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                }
                catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                if (stop.request(reason, kills::incrementAndGet)) {
                    winners.add(reason);
                }
            }));
        }
        go.countDown();
        for (Thread thread : threads) {
            thread.join();
        }

        assertThat(winners).hasSize(1);
        assertThat(stop.reason()).isEqualTo(winners.getFirst());
        assertThat(kills).hasValue(1);
    }

}
