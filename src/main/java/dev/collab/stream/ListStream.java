package dev.collab.stream;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import dev.collab.access.AccessGrant;
import org.jspecify.annotations.Nullable;

/**
 * One live session list stream ({@code GET /api/projects/{key}/sessions/stream}): what
 * the hub ({@link SessionListHub}) hands it queues here, bounded; a writer thread of its
 * own (virtual) writes it with blocking output, heartbeats in between. A client that does
 * not keep up fills the queue and is closed (it resumes with Last-Event-ID); a write
 * blocked until the connection's idle timeout fails and ends it too.
 */
final class ListStream {

    /**
     * Messages queued for one connection: at most one every 250 ms tick, so this is 16 s
     * of a client that reads nothing.
     */
    static final int CAPACITY = 64;

    private static final byte[] PING = ": ping\n\n".getBytes(StandardCharsets.US_ASCII);

    /**
     * An SSE message without its {@code id:} line, shared by every stream of one user.
     *
     * @param version the list version it brings the client to, or -1 for none (no
     * {@code id:} line: presence, a read position)
     */
    record Message(byte[] body, long version) {
    }

    final String project;

    final UUID userId;

    final @Nullable AccessGrant grant;

    private final BlockingQueue<Message> queue = new ArrayBlockingQueue<>(CAPACITY);

    private volatile boolean closed;

    private volatile boolean overflowed;

    private volatile @Nullable Thread writer;

    /** The last {@code id:} sent; only the writer thread uses it. */
    private long lastId;

    ListStream(String project, UUID userId, @Nullable AccessGrant grant) {
        this.project = project;
        this.userId = userId;
        this.grant = grant;
    }

    /** Non-blocking: a full queue closes the stream (too slow). */
    void offer(Message message) {
        if (closed) {
            return;
        }
        if (!queue.offer(message)) {
            overflowed = true;
            close();
        }
    }

    boolean overflowed() {
        return overflowed;
    }

    boolean closed() {
        return closed;
    }

    /** Ends the stream: the writer stops after what it is writing now. */
    void close() {
        closed = true;
        Thread thread = writer;
        if (thread != null) {
            thread.interrupt();
        }
    }

    /**
     * Writes the first message (snapshot or resume) then the queue until closed, the
     * maximum age or a failed write; blocks (a virtual thread).
     */
    void run(OutputStream out, Message first, long heartbeatNanos, long deadlineNanos) throws IOException {
        writer = Thread.currentThread();
        try {
            out.write("retry: 3000\n\n".getBytes(StandardCharsets.US_ASCII));
            write(out, first);
            out.flush();
            while (!closed && System.nanoTime() < deadlineNanos) {
                Message message;
                try {
                    message = queue.poll(Math.min(heartbeatNanos, deadlineNanos - System.nanoTime()),
                            TimeUnit.NANOSECONDS);
                }
                catch (InterruptedException e) {
                    break; // closed
                }
                if (closed) {
                    break;
                }
                if (message == null) {
                    out.write(PING);
                }
                else {
                    // everything that queued meanwhile goes out in one flush
                    do {
                        write(out, message);
                        message = queue.poll();
                    }
                    while (message != null);
                }
                out.flush();
            }
        }
        finally {
            closed = true;
            writer = null;
            Thread.interrupted(); // a close() during the last write must not outlive it
        }
    }

    private void write(OutputStream out, Message message) throws IOException {
        if (message.version() >= 0) {
            // Never backwards: an update read before the snapshot may carry an older
            // version.
            lastId = Math.max(lastId, message.version());
            out.write(("id: " + lastId + "\n").getBytes(StandardCharsets.US_ASCII));
        }
        out.write(message.body());
    }

}
