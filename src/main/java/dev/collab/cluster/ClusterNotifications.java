package dev.collab.cluster;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import javax.sql.DataSource;

import dev.collab.database.DedicatedConnections;
import dev.collab.ops.ShutdownOrder;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Messages between the instances of a cluster over PostgreSQL NOTIFY, received on the one
 * LISTEN connection of this instance (dedicated, not from the pool). Modules
 * {@link #listen} to their channels before the context starts and {@link #send} on them.
 * Delivery is best effort: if the connection drops it reconnects with backoff and tells
 * {@link #onReconnect} callbacks, which re-read whatever a lost notification could have
 * been about.
 *
 * <p>
 * The LISTEN loop is this bean's lifecycle, in phase {@link ShutdownOrder#NOTIFICATIONS}:
 * it starts before the web server and the runs, and stops after them (and after the
 * publisher's last flush), so that this instance hears the others for as long as it
 * serves anything. A thread of its own, not a scheduled job: it blocks on the connection
 * for whole seconds at a time.
 */
@Component
public class ClusterNotifications implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ClusterNotifications.class);
    static final String APPLICATION_NAME = "collab-listener";

    private static final Duration PROBE_EVERY = Duration.ofSeconds(15);

    /** Where the LISTEN connection is. */
    public enum State {

        STARTING, CONNECTED, RECONNECTING, STOPPED

    }

    private final DataSource dataSource;

    private final JdbcClient jdbc;

    private final Map<String, List<Consumer<String>>> handlers = new ConcurrentHashMap<>();

    private final List<Runnable> reconnectCallbacks = new CopyOnWriteArrayList<>();

    private final AtomicInteger connected = new AtomicInteger();

    private final AtomicInteger reconnects = new AtomicInteger();

    private volatile State state = State.STOPPED;

    private volatile boolean running;

    private volatile @Nullable Thread thread;

    private volatile @Nullable Connection connection;

    ClusterNotifications(DataSource dataSource, JdbcClient jdbc, MeterRegistry registry) {
        this.dataSource = dataSource;
        this.jdbc = jdbc;
        registry.gauge("collab.stream.listener.connected", connected);
        registry.gauge("collab.stream.listener.reconnects", reconnects);
    }

    /**
     * Calls the handler with the payload of every notification on the channel, from any
     * instance (this one included), on the LISTEN thread: keep it short. Register before
     * the context starts.
     */
    public void listen(String channel, Consumer<String> handler) {
        if (!channel.matches("[a-z_]{1,63}")) {
            throw new IllegalArgumentException("Not a channel name: " + channel);
        }
        handlers.computeIfAbsent(channel, name -> new CopyOnWriteArrayList<>()).add(handler);
    }

    /**
     * Called on the LISTEN thread after a lost connection is back: notifications may have
     * been missed.
     */
    public void onReconnect(Runnable callback) {
        reconnectCallbacks.add(callback);
    }

    /**
     * Notifies every instance (this one included); the payload is at most 7,500 bytes.
     */
    public void send(String channel, String payload) {
        jdbc.sql("select pg_notify(:channel, :payload)")
            .param("channel", channel)
            .param("payload", payload)
            .query()
            .singleValue();
    }

    public State state() {
        return state;
    }

    public int reconnects() {
        return reconnects.get();
    }

    @Override
    public void start() {
        running = true;
        state = State.STARTING;
        thread = Thread.ofPlatform().daemon().name("event-listen").start(this::listenLoop);
    }

    private void listenLoop() {
        Duration backoff = Duration.ofMillis(100);
        boolean first = true;
        while (running) {
            try (Connection listen = DedicatedConnections.open(dataSource, APPLICATION_NAME)) {
                connection = listen;
                try (var statement = listen.createStatement()) {
                    for (String channel : handlers.keySet()) {
                        // Channel names are checked in listen(): no quoting needed.
                        statement.execute("LISTEN " + channel);
                    }
                }
                state = State.CONNECTED;
                connected.set(1);
                backoff = Duration.ofMillis(100);
                if (!first) {
                    log.info("Cluster notifications connected again; catching up on what they could have said");
                    reconnectCallbacks.forEach(ClusterNotifications::runQuietly);
                }
                first = false;
                PGConnection pg = listen.unwrap(PGConnection.class);
                long nextProbe = System.nanoTime() + PROBE_EVERY.toNanos();
                while (running) {
                    if (System.nanoTime() > nextProbe) {
                        // getNotifications only reads: a half-open connection would look
                        // fine forever.
                        try (var probe = listen.createStatement()) {
                            probe.setQueryTimeout(5);
                            probe.execute("select 1");
                        }
                        nextProbe = System.nanoTime() + PROBE_EVERY.toNanos();
                    }
                    PGNotification[] notifications = pg.getNotifications(500);
                    if (notifications != null) {
                        for (PGNotification notification : notifications) {
                            // One notification that cannot be handled must not cost the
                            // connection
                            // (a reconnect re-reads every watched session) nor the rest
                            // of the batch.
                            for (Consumer<String> handler : handlers.getOrDefault(notification.getName(), List.of())) {
                                try {
                                    handler.accept(notification.getParameter());
                                }
                                catch (RuntimeException e) {
                                    log.warn("Could not handle notification {} on {}: {}", notification.getParameter(),
                                            notification.getName(), e.toString());
                                }
                            }
                        }
                    }
                }
            }
            catch (SQLException | RuntimeException e) {
                if (!running) {
                    break;
                }
                connected.set(0);
                state = State.RECONNECTING;
                reconnects.incrementAndGet();
                log.warn("Cluster notification connection lost ({}); reconnecting in {} ms", e.getMessage(),
                        backoff.toMillis());
                sleep(backoff);
                backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(5)) > 0 ? Duration.ofSeconds(5)
                        : backoff.multipliedBy(2);
            }
        }
        connected.set(0);
        state = State.STOPPED;
    }

    private static void runQuietly(Runnable callback) {
        try {
            callback.run();
        }
        catch (RuntimeException e) {
            log.warn("A reconnect callback failed: {}", e.toString());
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void stop() {
        running = false;
        Connection current = connection;
        if (current != null) {
            try {
                current.close();
            }
            catch (SQLException e) {
                // closing anyway
            }
        }
        Thread listening = thread;
        if (listening != null) {
            listening.interrupt();
            try {
                // Bounded: the loop leaves within one poll (0.5 s) once its connection is
                // closed.
                listening.join(5_000);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return ShutdownOrder.NOTIFICATIONS;
    }

}
