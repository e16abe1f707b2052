package dev.collab.stream;

import org.jspecify.annotations.Nullable;

/**
 * Told when a live session stream of this instance opens (after its replay, as it goes
 * live) and when it closes, for whatever reason (the client left, it was too slow, its
 * maximum age, shutdown): who is watching. Implemented by other modules (beans); called
 * on the stream's threads, so an implementation only records the change and returns.
 * Every {@link #opened} is followed by exactly one {@link #closed} of the same watch.
 */
public interface StreamWatchers {

    /**
     * Called just before {@link #opened}: a message without an id for this one stream,
     * written first once it is live (before any message {@link SessionStreams#send} sends
     * later, which replaces it if not written yet), or null. For the state the watcher
     * last sent the session's streams, so that a new stream has it at once rather than at
     * the next change. Must not block (no database read).
     */
    default @Nullable Message greeting(StreamWatch watch) {
        return null;
    }

    void opened(StreamWatch watch);

    /**
     * A message without an id: {@code event: <type>}, {@code data: <json>} (one line, see
     * {@link SessionStreams#send}).
     */
    record Message(String type, String json) {
    }

    void closed(StreamWatch watch);

}
