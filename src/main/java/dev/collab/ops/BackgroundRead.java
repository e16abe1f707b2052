package dev.collab.ops;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.scheduling.TaskScheduler;

/**
 * A value for metrics and operator endpoints that is read in the background (from the
 * database, for the whole cluster) and served from memory: a Prometheus scrape or an
 * Actuator request never waits for the database, and never fails while it is down; it
 * gets the last value read. Like {@link BackgroundHealthIndicator}: at a fixed rate, each
 * read on a thread of its own, and while one has not finished the next ones are skipped,
 * so a read that hangs never piles up others.
 *
 * <p>
 * A read that fails keeps the last value and is logged once (WARN), and once more when
 * reads work again (INFO): a database outage is reported by the {@code db} health check
 * already, every 2 s. Reads start in phase {@link ShutdownOrder#BACKGROUND} and stop
 * firing when shutdown begins.
 *
 * @param <T> the value read
 */
public abstract class BackgroundRead<T> implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(BackgroundRead.class);

    private final String what;

    private final Duration interval;

    private final Duration staleAfter;

    private final TaskScheduler scheduler;

    private final Clock clock;

    /** A periodic read is under way (the next ones skip until it finishes). */
    private final AtomicBoolean reading = new AtomicBoolean();

    /**
     * Numbers reads in the order they start: a read that started before another one
     * finished never replaces that one's newer value.
     */
    private final AtomicLong started = new AtomicLong();

    private volatile @Nullable Stored<T> last;

    private volatile boolean failing;

    private volatile @Nullable ScheduledFuture<?> reads;

    /**
     * @param what what is read, for the log ("the length of the message queue")
     * @param interval how often it is read
     */
    protected BackgroundRead(String what, Duration interval, TaskScheduler scheduler, Clock clock) {
        this.what = what;
        this.interval = interval;
        this.staleAfter = interval.multipliedBy(3).plusSeconds(5);
        this.scheduler = scheduler;
        this.clock = clock;
    }

    /** Reads the value; may block (use short query timeouts), may throw. */
    protected abstract T read() throws Exception;

    /** The last value read and when it was read; empty before the first read. */
    public final Optional<Snapshot<T>> last() {
        Stored<T> stored = last;
        return stored == null ? Optional.empty() : Optional.of(stored.snapshot());
    }

    /**
     * Whether the last value is current: the last read succeeded, within three intervals
     * (and 5 s).
     */
    public final boolean fresh() {
        Stored<T> stored = last;
        return stored != null && !failing && System.nanoTime() - stored.nanos() <= staleAfter.toNanos();
    }

    /**
     * Reads now on the calling thread, whatever read is under way, for a caller that has
     * just changed what is read (and whose own thread may wait for the database).
     * @return the value, or empty when the read failed (the last value stays)
     */
    public final Optional<T> readNow() {
        return attempt();
    }

    private void periodic() {
        if (!reading.compareAndSet(false, true)) {
            return;
        }
        try {
            attempt();
        }
        finally {
            reading.set(false);
        }
    }

    private Optional<T> attempt() {
        long number = started.incrementAndGet();
        T value;
        try {
            value = read();
        }
        catch (Exception e) {
            if (!failing) {
                failing = true;
                log.warn("Could not read {} ({}); its metrics keep their last value until a read works again", what,
                        e.toString());
            }
            return Optional.empty();
        }
        store(new Stored<>(new Snapshot<>(value, clock.instant()), number, System.nanoTime()));
        if (failing) {
            failing = false;
            log.info("Reading {} works again", what);
        }
        return Optional.of(value);
    }

    private synchronized void store(Stored<T> read) {
        Stored<T> current = last;
        if (current == null || current.number() < read.number()) {
            last = read;
        }
    }

    @Override
    public void start() {
        reads = scheduler.scheduleAtFixedRate(this::periodic, interval);
    }

    @Override
    public void stop() {
        ScheduledFuture<?> running = reads;
        reads = null;
        if (running != null) {
            running.cancel(false);
        }
    }

    @Override
    public boolean isRunning() {
        return reads != null;
    }

    @Override
    public int getPhase() {
        return ShutdownOrder.BACKGROUND;
    }

    /**
     * A value and when it was read.
     *
     * @param <T> the value
     */
    public record Snapshot<T>(T value, Instant readAt) {
    }

    private record Stored<T>(Snapshot<T> snapshot, long number, long nanos) {
    }

}
