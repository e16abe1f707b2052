package dev.collab.ops;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.health.actuate.endpoint.HealthDescriptor;
import org.springframework.boot.health.actuate.endpoint.HealthEndpoint;
import org.springframework.boot.health.contributor.Status;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.EventListener;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.stereotype.Component;

/**
 * {@code collab_health_readiness} (1 while {@code /actuator/health/readiness} answers
 * {@code UP}, else 0) and {@code collab_health_readiness_changes_total} (every change of
 * it after this instance first became ready), so that a readiness that flaps shows in
 * Prometheus without a blackbox probe.
 *
 * <p>
 * What readiness answers is the readiness health group: Spring's readiness state
 * ({@code REFUSING_TRAFFIC} from the moment shutdown begins) and the {@code db} check
 * (reachable and migrated), so the group itself is evaluated, every {@link #INTERVAL},
 * the way the endpoint does it (cheap: the {@code db} check serves its last background
 * result). The readiness event alone would miss a database outage. A
 * {@code REFUSING_TRAFFIC} event turns the gauge 0 at once, because the periodic
 * evaluation stops when shutdown begins, at that very event.
 */
@Component
class ReadinessMetrics implements SmartLifecycle {

    /** Half the {@code db} check's interval: no change of it is missed. */
    static final Duration INTERVAL = Duration.ofSeconds(1);

    private static final String GROUP = "readiness";

    private final ObjectProvider<HealthEndpoint> health;

    private final TaskScheduler scheduler;

    private final Counter changes;

    /**
     * The readiness state as the events said it; read here rather than from
     * {@link ApplicationAvailability}, which may hear of an event after this listener.
     */
    private volatile ReadinessState state;

    /**
     * Held while readiness is evaluated and stored: an evaluation that found the instance
     * ready must not store that after a {@code REFUSING_TRAFFIC} evaluated meanwhile
     * (shutdown stops the periodic ones, so the gauge would stay 1 through the drain).
     * Not the gauge's lock: a scrape never waits for an evaluation.
     */
    private final Object evaluating = new Object();

    private volatile boolean ready;

    /** The first change to ready (the start) is not counted as a change. */
    private boolean wasReady;

    private volatile @Nullable ScheduledFuture<?> evaluations;

    ReadinessMetrics(ObjectProvider<HealthEndpoint> health, ApplicationAvailability availability,
            TaskScheduler scheduler, MeterRegistry registry) {
        this.health = health;
        this.scheduler = scheduler;
        this.state = availability.getReadinessState();
        Gauge.builder("collab.health.readiness", this, metrics -> metrics.ready() ? 1 : 0)
            .description("1 while /actuator/health/readiness answers UP on this instance, else 0")
            .register(registry);
        this.changes = Counter.builder("collab.health.readiness.changes")
            .description("Changes of readiness on this instance since it first became ready")
            .register(registry);
    }

    @EventListener
    void onReadiness(AvailabilityChangeEvent<ReadinessState> event) {
        state = event.getState();
        evaluate();
    }

    /** Evaluates readiness now and counts a change. */
    void evaluate() {
        synchronized (evaluating) {
            boolean now = state == ReadinessState.ACCEPTING_TRAFFIC && groupUp();
            if (now == ready) {
                return;
            }
            ready = now;
            if (wasReady) {
                changes.increment();
            }
            wasReady |= now;
        }
    }

    private boolean groupUp() {
        HealthEndpoint endpoint = health.getIfAvailable();
        if (endpoint == null) {
            return true; // no health endpoint: the readiness state alone decides
        }
        HealthDescriptor group = endpoint.healthForPath(GROUP);
        return group != null && Status.UP.equals(group.getStatus());
    }

    boolean ready() {
        return ready;
    }

    @Override
    public void start() {
        evaluations = scheduler.scheduleAtFixedRate(this::evaluate, INTERVAL);
    }

    @Override
    public void stop() {
        ScheduledFuture<?> running = evaluations;
        evaluations = null;
        if (running != null) {
            running.cancel(false);
        }
    }

    @Override
    public boolean isRunning() {
        return evaluations != null;
    }

    @Override
    public int getPhase() {
        return ShutdownOrder.BACKGROUND;
    }

}
