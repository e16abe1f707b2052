package dev.collab.ops;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

/**
 * A health check that never runs on the request path: it runs on its own thread every
 * {@code interval} and the endpoint serves the last result, so health answers in milliseconds
 * even while the database or a network filesystem hangs. A check that stops finishing is
 * itself reported (OUT_OF_SERVICE, "stale").
 */
public abstract class BackgroundHealthIndicator implements HealthIndicator, InitializingBean, DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(BackgroundHealthIndicator.class);

    private final String name;
    private final Duration interval;
    private final Duration staleAfter;
    private final ScheduledExecutorService executor;
    private final CountDownLatch firstCheck = new CountDownLatch(1);
    private volatile @Nullable Result last;

    protected BackgroundHealthIndicator(String name, Duration interval) {
        this.name = name;
        this.interval = interval;
        this.staleAfter = interval.multipliedBy(3).plusSeconds(5);
        this.executor = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("health-" + name).factory());
    }

    /**
     * Starts checking once the subclass is fully built, and waits briefly for the first result
     * so that the first probe after startup has an answer (never long: the check may hang).
     */
    @Override
    public void afterPropertiesSet() throws InterruptedException {
        executor.scheduleWithFixedDelay(this::refresh, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        firstCheck.await(2, TimeUnit.SECONDS);
    }

    /** Runs the check; may block. An exception is reported as DOWN with a generic reason. */
    protected abstract Health check() throws Exception;

    /** What to say when {@link #check()} threw: never the exception text (it may hold hosts, SQL). */
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
            return Health.outOfService().withDetail("reason", "check has not finished for " + age.toSeconds() + "s")
                    .withDetail("checkedAt", result.checkedAt().toString()).build();
        }
        return Health.status(result.health().getStatus()).withDetails(result.health().getDetails())
                .withDetail("checkedAt", result.checkedAt().toString()).build();
    }

    private void refresh() {
        Health health;
        try {
            health = check();
        } catch (Exception e) {
            log.warn("Health check '{}' failed: {}", name, e.toString());
            health = Health.down().withDetail("reason", failureReason(e)).build();
        } catch (Throwable t) {
            log.error("Health check '{}' failed", name, t);
            health = Health.status(Status.DOWN).withDetail("reason", name + " check failed").build();
        }
        last = new Result(health, Instant.now());
        firstCheck.countDown();
    }

    @Override
    public void destroy() {
        executor.shutdownNow();
    }

    private record Result(Health health, Instant checkedAt) {
    }
}
