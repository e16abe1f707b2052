package dev.collab.stream;

/**
 * Told when a live session stream of this instance opens (after its replay, as it goes
 * live) and when it closes, for whatever reason (the client left, it was too slow, its
 * maximum age, shutdown): who is watching. Implemented by other modules (beans); called
 * on the stream's threads, so an implementation only records the change and returns.
 * Every {@link #opened} is followed by exactly one {@link #closed} of the same watch.
 */
public interface StreamWatchers {

    void opened(StreamWatch watch);

    void closed(StreamWatch watch);

}
