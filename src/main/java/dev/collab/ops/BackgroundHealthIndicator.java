package dev.collab.ops;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.context.SmartLifecycle;
import org.springframework.scheduling.TaskScheduler;

/**
 * A health check that never runs on the request path: Spring's task scheduler runs it
 * every {@code interval} and the endpoint serves the last result, so health answers in
 * milliseconds even while the database or a network filesystem hangs. A check that stops
 * finishing is itself reported (OUT_OF_SERVICE, "stale").
 *
 * <p>
 * At a fixed rate, not a fixed delay: the scheduler runs fixed-delay jobs one after the
 * other on its single thread, so a check that hangs (statfs on a stuck network
 * filesystem) would stop every other check and periodic job with it. At a fixed rate each
 * check runs on a thread of its own; while one has not finished, the next ones are
 * skipped, so hung checks never pile up.
 *
 * <p>
 * The checks start in phase {@link ShutdownOrder#BACKGROUND}, before the web server, and
 * the start waits briefly for the first result, so the first probe has an answer. They
 * stop firing when shutdown begins (the scheduler stops its periodic jobs then), and are
 * cancelled in that phase.
 */
public abstract class BackgroundHealthIndicator implements HealthIndicator, SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(BackgroundHealthIndicator.class);

    private final String name;

    private final Duration interval;

    private final Duration staleAfter;

    private final TaskScheduler scheduler;

    private final CountDownLatch firstCheck = new CountDownLatch(1);

    /** A check is under way (the next ones skip until it finishes). */
    private final AtomicBoolean checking = new AtomicBoolean();

    private volatile @Nullable ScheduledFuture<?> checks;

    private volatile @Nullable Result last;

    protected BackgroundHealthIndicator(String name, Duration interval, TaskScheduler scheduler) {
        this.name = name;
        this.interval = interval;
        this.staleAfter = interval.multipliedBy(3).plusSeconds(5);
        this.scheduler = scheduler;
    }

    /**
     * Runs the check; may block. An exception is reported as DOWN with a generic reason.
     */
    protected abstract Health check() throws Exception;

    /**
     * What to say when {@link #check()} threw: never the exception text (it may hold
     * hosts, SQL).
     */
    protected String failureReason(Exception e) {
        return name + " check failed";
    }

    @Override
    public Health health() {
        Result result = last;
        if (result == null) {
            return Health.outOfService().withDetail("reason", "first check pending").build();
        }
        Duration age = Duration.between(result.checkedAt(), Instant.now());
        if (age.compareTo(staleAfter) > 0) {
            return Health.outOfService()
                .withDetail("reason", "check has not finished for " + age.toSeconds() + "s")
                .withDetail("checkedAt", result.checkedAt().toString())
                .build();
        }
        return Health.status(result.health().getStatus())
            .withDetails(result.health().getDetails())
            .withDetail("checkedAt", result.checkedAt().toString())
            .build();
    }

    private void refresh() {
        if (!checking.compareAndSet(false, true)) {
            return; // the last check still runs (it hangs): health reports it stale once
                    // it is
        }
        Health health;
        try {
            health = check();
        }
        catch (Exception e) {
            log.warn("Health check '{}' failed: {}", name, e.toString());
            health = Health.down().withDetail("reason", failureReason(e)).build();
        }
        catch (Throwable t) {
            log.error("Health check '{}' failed", name, t);
            health = Health.status(Status.DOWN).withDetail("reason", name + " check failed").build();
        }
        finally {
            checking.set(false);
        }
        last = new Result(health, Instant.now());
        firstCheck.countDown();
    }

    /**
     * Starts checking, and waits briefly for the first result (never long: the check may
     * hang).
     */
    @Override
    public void start() {
        checks = scheduler.scheduleAtFixedRate(this::refresh, interval);
        try {
            firstCheck.await(2, TimeUnit.SECONDS);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** No further checks; one under way finishes on its own thread. */
    @Override
    public void stop() {
        ScheduledFuture<?> running = checks;
        checks = null;
        if (running != null) {
            running.cancel(false);
        }
    }

    @Override
    public boolean isRunning() {
        return checks != null;
    }

    @Override
    public int getPhase() {
        return ShutdownOrder.BACKGROUND;
    }

    private record Result(Health health, Instant checkedAt) {
    }

}
