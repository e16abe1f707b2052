package dev.collab.stream;

import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import dev.collab.web.DatabaseBusyException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The streams' share of the connection pool: at most
 * {@code collab.stream.concurrent-reads} log reads of streams at a time (the hub's shared
 * reads, replays, catch-ups, head look-ups), the rest wait their turn in arrival order.
 * 5,000 streams opening at once used to borrow 5,000 pooled connections from a pool of
 * 20: after the pool's 5 s connection timeout 280 of them got a 503 and sends and health
 * checks queued behind them (docs/performance.md, "Reconnect storms"). Now the streams
 * never hold more than their share, and the rest of the pool stays free for writes. A
 * plain fair {@link Semaphore}: no bulkhead library is on the classpath, and this is all
 * a bulkhead would do here.
 */
@Component
class StreamReads {

    private static final Logger log = LoggerFactory.getLogger(StreamReads.class);

    private final Semaphore permits;

    private final int limit;

    private final long queueTimeoutNanos;

    private final AtomicInteger waiting = new AtomicInteger();

    /**
     * Reads running now and the most there ever were at once, counted apart from the
     * permits (tests check the bound).
     */
    private final AtomicInteger running = new AtomicInteger();

    private final AtomicInteger mostRunning = new AtomicInteger();

    private final MeterRegistry registry;

    private final Counter queueTimeouts;

    @Autowired
    StreamReads(StreamProperties properties, DataSource dataSource, MeterRegistry registry) {
        this(effectiveLimit(properties.concurrentReads(), poolSize(dataSource)), properties.readQueueTimeout(),
                registry);
    }

    StreamReads(int limit, Duration queueTimeout, MeterRegistry registry) {
        this.limit = limit;
        this.permits = new Semaphore(limit, true);
        this.queueTimeoutNanos = queueTimeout.toNanos();
        this.registry = registry;
        Gauge.builder("collab.stream.reads.waiting", waiting, AtomicInteger::get)
            .description("Log reads of streams waiting for their turn")
            .register(registry);
        Gauge.builder("collab.stream.reads.active", this, reads -> reads.limit - reads.permits.availablePermits())
            .description("Log reads of streams running now (at most collab.stream.concurrent-reads)")
            .register(registry);
        this.queueTimeouts = Counter.builder("collab.stream.reads.queue.timeouts")
            .description(
                    "Reads of streams that waited longer than collab.stream.read-queue-timeout (answered 503 database-busy)")
            .register(registry);
    }

    int limit() {
        return limit;
    }

    /** The most reads that ever ran at once (for tests: the bound holds). */
    int mostRunning() {
        return mostRunning.get();
    }

    /**
     * Runs {@code query} once a turn is free (waits, in order, up to the read-queue
     * timeout).
     * @param purpose counted in {@code collab.stream.reads{purpose}}: head, recent,
     * replay, catch-up, fanout, tail-check
     * @throws DatabaseBusyException when no turn came in time
     */
    <T> T read(String purpose, Supplier<T> query) {
        boolean acquired;
        waiting.incrementAndGet();
        try {
            acquired = permits.tryAcquire(queueTimeoutNanos, TimeUnit.NANOSECONDS);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DatabaseBusyException("Interrupted while waiting to read the event log.");
        }
        finally {
            waiting.decrementAndGet();
        }
        if (!acquired) {
            queueTimeouts.increment();
            throw new DatabaseBusyException("Too many streams are reading the event log right now; retry shortly.");
        }
        mostRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
        try {
            registry.counter("collab.stream.reads", "purpose", purpose).increment();
            return query.get();
        }
        finally {
            running.decrementAndGet();
            permits.release();
        }
    }

    /**
     * At most half the pool (at least 1): the other half stays for sends, runs and
     * health.
     */
    static int effectiveLimit(int configured, int poolSize) {
        int cap = Math.max(1, poolSize / 2);
        if (configured > cap) {
            log.info("collab.stream.concurrent-reads={} is more than half the connection pool ({}): using {}",
                    configured, poolSize, cap);
            return cap;
        }
        return configured;
    }

    private static int poolSize(DataSource dataSource) {
        try {
            if (dataSource.isWrapperFor(HikariDataSource.class)) {
                return dataSource.unwrap(HikariDataSource.class).getMaximumPoolSize();
            }
        }
        catch (SQLException e) {
            // not a Hikari pool: no cap known
        }
        return Integer.MAX_VALUE;
    }

}
