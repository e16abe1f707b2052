package dev.collab.event;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import dev.collab.database.DedicatedConnections;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The one LISTEN connection of this instance (dedicated, not from the pool): wakes the local
 * streams of sessions that moved on other instances. If the connection drops it reconnects with
 * backoff and then re-reads every watched session's tail, so nothing appended meanwhile is missed.
 */
@Component
class NotificationListener implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(NotificationListener.class);
    static final String APPLICATION_NAME = "collab-listener";
    private static final Duration PROBE_EVERY = Duration.ofSeconds(15);

    enum State { STARTING, CONNECTED, RECONNECTING, STOPPED }

    private final DataSource dataSource;
    private final StreamHub hub;
    private final EventPublisher publisher;
    private final ControlChannel control;
    private final AtomicInteger connected = new AtomicInteger();
    private final AtomicInteger reconnects = new AtomicInteger();
    private volatile State state = State.STOPPED;
    private volatile boolean running;
    private volatile Thread thread;
    private volatile Connection connection;

    NotificationListener(DataSource dataSource, StreamHub hub, EventPublisher publisher, ControlChannel control,
            io.micrometer.core.instrument.MeterRegistry registry) {
        this.dataSource = dataSource;
        this.hub = hub;
        this.publisher = publisher;
        this.control = control;
        registry.gauge("collab.stream.listener.connected", connected);
        registry.gauge("collab.stream.listener.reconnects", reconnects);
    }

    State state() {
        return state;
    }

    int reconnects() {
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
                    statement.execute("LISTEN " + EventPublisher.CHANNEL);
                    statement.execute("LISTEN " + ControlChannel.CHANNEL);
                }
                state = State.CONNECTED;
                connected.set(1);
                backoff = Duration.ofMillis(100);
                if (!first) {
                    log.info("Event notifications connected again; re-reading every watched session");
                    hub.wakeAll();
                }
                first = false;
                PGConnection pg = listen.unwrap(PGConnection.class);
                long nextProbe = System.nanoTime() + PROBE_EVERY.toNanos();
                while (running) {
                    if (System.nanoTime() > nextProbe) {
                        // getNotifications only reads: a half-open connection would look fine forever.
                        try (var probe = listen.createStatement()) {
                            probe.setQueryTimeout(5);
                            probe.execute("select 1");
                        }
                        nextProbe = System.nanoTime() + PROBE_EVERY.toNanos();
                    }
                    PGNotification[] notifications = pg.getNotifications(500);
                    if (notifications != null) {
                        for (PGNotification notification : notifications) {
                            // One notification that cannot be handled must not cost the connection
                            // (a reconnect re-reads every watched session) nor the rest of the batch.
                            try {
                                if (ControlChannel.CHANNEL.equals(notification.getName())) {
                                    control.received(notification.getParameter());
                                } else {
                                    dispatch(notification.getParameter());
                                }
                            } catch (RuntimeException e) {
                                log.warn("Could not handle notification {} on {}: {}", notification.getParameter(),
                                        notification.getName(), e.toString());
                            }
                        }
                    }
                }
            } catch (SQLException | RuntimeException e) {
                if (!running) {
                    break;
                }
                connected.set(0);
                state = State.RECONNECTING;
                reconnects.incrementAndGet();
                log.warn("Event notification connection lost ({}); reconnecting in {} ms", e.getMessage(),
                        backoff.toMillis());
                sleep(backoff);
                backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(5)) > 0 ? Duration.ofSeconds(5)
                        : backoff.multipliedBy(2);
            }
        }
        connected.set(0);
        state = State.STOPPED;
    }

    /** {@code <instance>|<session id>:<seq>,…}; this instance's own are skipped (woken locally already). */
    private void dispatch(String payload) {
        int bar = payload.indexOf('|');
        if (bar < 0 || payload.substring(0, bar).equals(publisher.instanceId)) {
            return;
        }
        for (String entry : payload.substring(bar + 1).split(",")) {
            int colon = entry.indexOf(':');
            if (colon < 0) {
                continue;
            }
            try {
                hub.wake(UUID.fromString(entry.substring(0, colon)), Long.parseLong(entry.substring(colon + 1)));
            } catch (IllegalArgumentException e) {
                log.debug("Ignoring a malformed notification entry: {}", entry);
            }
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
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
            } catch (SQLException e) {
                // closing anyway
            }
        }
        Thread listening = thread;
        if (listening != null) {
            listening.interrupt();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
