package dev.collab.web;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.eclipse.jetty.util.thread.Scheduler;
import org.jspecify.annotations.Nullable;

/**
 * Closes an HTTP/1.1 connection that has not sent a complete request head within
 * {@code collab.http.request-head-timeout}: counted from when the connection opened for
 * its first request, and from when its next request's first bytes were seen on a
 * kept-alive connection.
 * <p>
 * Hand-written because Jetty 12 has nothing that bounds the <em>total</em> time of a
 * head: its idle timeout restarts with every byte, so a client sending one header line
 * every few seconds (slowloris) holds the connection for as long as it likes, and its
 * minimum data rate ({@code HttpConfiguration.minRequestDataRate}) applies to bodies
 * only. This is the smallest thing that does: one timer thread looks at the connectors'
 * open connections a few times per deadline (a few reads per connection: 10,000 open
 * streams cost well under a millisecond) and closes the ones still in their head past the
 * deadline, the way the idle timeout closes a connection (no answer is written: the
 * client is not reading one). It hooks into nothing on the connections' own path.
 */
final class RequestHeadDeadline extends AbstractLifeCycle {

    private final List<Connector> connectors;

    private final long deadlineMillis;

    private final long checkMillis;

    /** What the checker saw of each connection that was in its head at the last check. */
    private final Map<HttpConnection, Head> heads = new ConcurrentHashMap<>();

    private final Scheduler scheduler = new ScheduledExecutorScheduler("request-head-deadline", true);

    RequestHeadDeadline(List<Connector> connectors, java.time.Duration deadline) {
        this.connectors = List.copyOf(connectors);
        this.deadlineMillis = deadline.toMillis();
        // Closed at most a quarter of the deadline late (at most 1 s).
        this.checkMillis = Math.clamp(deadline.toMillis() / 4, 50, 1000);
    }

    @Override
    protected void doStart() throws Exception {
        scheduler.start();
        scheduler.schedule(this::check, checkMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    protected void doStop() throws Exception {
        scheduler.stop();
        heads.clear();
    }

    private void check() {
        try {
            long now = System.currentTimeMillis();
            Map<HttpConnection, Head> seen = new java.util.HashMap<>();
            for (Connector connector : connectors) {
                for (EndPoint endPoint : connector.getConnectedEndPoints()) {
                    if (endPoint.getConnection() instanceof HttpConnection connection) {
                        Head head = heads.get(connection);
                        head = Head.of(head, connection, endPoint.getCreatedTimeStamp(), now);
                        if (head == null) {
                            continue;
                        }
                        if (now - head.since > deadlineMillis) {
                            endPoint.close(new TimeoutException("request head not complete in time"));
                        }
                        else {
                            seen.put(connection, head);
                        }
                    }
                }
            }
            // Only connections still in a head are remembered: closed ones drop out here.
            heads.keySet().retainAll(seen.keySet());
            heads.putAll(seen);
        }
        finally {
            if (isRunning()) {
                scheduler.schedule(this::check, checkMillis, TimeUnit.MILLISECONDS);
            }
        }
    }

    /**
     * A connection in its request head since {@code since}, for its {@code request}-th
     * request. The connection's state belongs to its own thread; a stale read only delays
     * a close by one check.
     */
    private record Head(long since, long request) {

        /**
         * The head the connection is in now (null when it is in none), given what was
         * seen last time.
         */
        static @Nullable Head of(@Nullable Head last, HttpConnection connection, long opened, long now) {
            if (connection.getHttpChannel().getRequest() != null) {
                // A request is being handled (its head is complete), however long its
                // answer
                // takes: a stream is not a slow head.
                return null;
            }
            long messages = connection.getMessagesIn();
            if (messages > 0 && connection.getParser().isStart()) {
                // Kept alive between requests, nothing of the next one yet: the idle
                // timeout's case.
                return null;
            }
            if (last != null && last.request == messages) {
                return last;
            }
            // The first head counts from the connection's opening; a later one from when
            // it was seen.
            return new Head(messages == 0 ? opened : now, messages);
        }
    }

}
