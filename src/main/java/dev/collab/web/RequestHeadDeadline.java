package dev.collab.web;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Closes an HTTP/1.1 connection that has not sent a complete request head within
 * {@code collab.http.request-head-timeout}: counted from when the connection opened for its first
 * request, and from when its next request's first bytes were seen on a kept-alive connection.
 * <p>
 * Hand-written because Jetty 12 has nothing that bounds the <em>total</em> time of a head: its
 * idle timeout restarts with every byte, so a client sending one header line every few seconds
 * (slowloris) holds the connection for as long as it likes, and its minimum data rate
 * ({@code HttpConfiguration.minRequestDataRate}) applies to bodies only. This is the smallest
 * thing that does: one timer thread looks at each open connection's parser a few times per
 * deadline (a few reads per connection: 10,000 open streams cost microseconds) and closes the
 * ones still in the head past the deadline, the way the idle timeout closes a connection (no
 * answer is written: the client is not reading one).
 */
final class RequestHeadDeadline extends AbstractLifeCycle implements Connection.Listener {

    private final long deadlineNanos;
    private final long checkMillis;
    private final Map<HttpConnection, Head> connections = new ConcurrentHashMap<>();
    private final Scheduler scheduler = new ScheduledExecutorScheduler("request-head-deadline", true);

    RequestHeadDeadline(java.time.Duration deadline) {
        this.deadlineNanos = deadline.toNanos();
        // Closed at most a quarter of the deadline late (at most 1 s).
        this.checkMillis = Math.clamp(deadline.toMillis() / 4, 50, 1000);
    }

    @Override
    public void onOpened(Connection connection) {
        if (connection instanceof HttpConnection http) {
            connections.put(http, new Head(System.nanoTime()));
        }
    }

    @Override
    public void onClosed(Connection connection) {
        connections.remove(connection);
    }

    @Override
    protected void doStart() throws Exception {
        scheduler.start();
        scheduler.schedule(this::check, checkMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    protected void doStop() throws Exception {
        scheduler.stop();
        connections.clear();
    }

    int tracked() {
        return connections.size();
    }

    private void check() {
        try {
            long now = System.nanoTime();
            connections.forEach((connection, head) -> {
                if (head.overdue(connection, now, deadlineNanos)) {
                    connections.remove(connection);
                    connection.getEndPoint().close(new TimeoutException("request head not complete in time"));
                }
            });
        } finally {
            if (isRunning()) {
                scheduler.schedule(this::check, checkMillis, TimeUnit.MILLISECONDS);
            }
        }
    }

    /**
     * What the checker last saw of one connection. Only the checker thread touches it. The
     * connection's state belongs to its own thread; a stale read only delays a close by one check.
     */
    private static final class Head {

        private final long opened;
        private boolean served;
        private long since = -1;
        private long request = -1;

        Head(long opened) {
            this.opened = opened;
        }

        boolean overdue(HttpConnection connection, long now, long deadline) {
            long messages = connection.getMessagesIn();
            if (connection.getHttpChannel().getRequest() != null) {
                // A request is being handled (its head is complete), however long its answer
                // takes: a stream is not a slow head.
                served = true;
                since = -1;
                return false;
            }
            served |= messages > 0;
            if (served && connection.getParser().isStart()) {
                // Kept alive between requests, nothing of the next one yet: the idle timeout's case.
                since = -1;
                return false;
            }
            // In a head: the first one since the connection opened, or the next one's first bytes
            // have come on a kept-alive connection.
            if (since < 0 || request != messages) {
                since = served ? now : opened;
                request = messages;
            }
            return now - since > deadline;
        }
    }
}
