package dev.collab.ops;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.availability.ApplicationAvailabilityBean;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.health.actuate.endpoint.HealthEndpoint;
import org.springframework.scheduling.concurrent.SimpleAsyncTaskScheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@link ReadinessMetrics} under a race the integration tests cannot time: a periodic
 * evaluation that found the instance ready is still asking the health group when shutdown
 * turns readiness to {@code REFUSING_TRAFFIC}. Shutdown also stops the periodic
 * evaluations, so whatever the two leave behind stays for the whole drain.
 */
class ReadinessMetricsTest {

    @Test
    void anEvaluationUnderWayDoesNotUndoTheRefusalThatFollowsIt() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        BlockingHealth health = new BlockingHealth();
        ApplicationAvailabilityBean availability = new ApplicationAvailabilityBean();
        ReadinessMetrics metrics = new ReadinessMetrics(health, availability, new SimpleAsyncTaskScheduler(), registry);
        metrics.onReadiness(new AvailabilityChangeEvent<>(this, ReadinessState.ACCEPTING_TRAFFIC));
        assertThat(metrics.ready()).isTrue();

        // A periodic evaluation: ready so far, now asking the health group.
        CountDownLatch asked = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        health.block(asked, answer);
        CompletableFuture<Void> periodic = CompletableFuture.runAsync(metrics::evaluate);
        assertThat(asked.await(10, TimeUnit.SECONDS)).isTrue();

        // Shutdown begins meanwhile, on another thread: it may have to wait for the
        // evaluation under way (blocked), or be done before that one ends.
        Thread refusing = Thread.ofPlatform()
            .start(() -> metrics.onReadiness(new AvailabilityChangeEvent<>(this, ReadinessState.REFUSING_TRAFFIC)));
        await().atMost(10, TimeUnit.SECONDS)
            .until(() -> refusing.getState() == Thread.State.BLOCKED || refusing.getState() == Thread.State.TERMINATED);
        answer.countDown(); // the group was UP when it was asked
        periodic.get(10, TimeUnit.SECONDS);
        refusing.join(10_000);
        assertThat(refusing.isAlive()).isFalse();

        assertThat(metrics.ready()).as("readiness after REFUSING_TRAFFIC").isFalse();
        assertThat(registry.get("collab.health.readiness").gauge().value()).isZero();
        assertThat(registry.get("collab.health.readiness.changes").counter().count())
            .as("one change: ready to not ready")
            .isEqualTo(1.0);
    }

    /**
     * No health endpoint (readiness state alone decides), but asking for it can be held
     * up, as a health group's evaluation can.
     */
    private static final class BlockingHealth implements ObjectProvider<HealthEndpoint> {

        private final AtomicReference<CountDownLatch @Nullable []> gate = new AtomicReference<>();

        void block(CountDownLatch asked, CountDownLatch answer) {
            gate.set(new CountDownLatch[] { asked, answer });
        }

        @Override
        public @Nullable HealthEndpoint getIfAvailable() {
            CountDownLatch[] latches = gate.getAndSet(null);
            if (latches != null) {
                latches[0].countDown();
                try {
                    latches[1].await(10, TimeUnit.SECONDS);
                }
                catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return null;
        }

        @Override
        public HealthEndpoint getObject() {
            throw new UnsupportedOperationException();
        }

        @Override
        public HealthEndpoint getObject(@Nullable Object... args) {
            throw new UnsupportedOperationException();
        }

        @Override
        public @Nullable HealthEndpoint getIfUnique() {
            return getIfAvailable();
        }

    }

}
