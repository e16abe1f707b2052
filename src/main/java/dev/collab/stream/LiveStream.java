package dev.collab.stream;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.collab.event.Event;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live part of one SSE stream, after the replay: servlet async with non-blocking
 * output. No thread waits for it. Whoever has something for it (the hub's delivery thread
 * with new events, the heartbeat and age timers, a catch-up read from the log, the
 * container when the connection can take more, shutdown) signals it, and one of them at a
 * time ({@link #pump()}) writes what the connection takes without blocking; what it does
 * not take yet waits in the subscription (bounded: past that the stream is closed as too
 * slow) until the container calls {@code onWritePossible}. The stream keeps its own
 * cursor: it skips what it already sent and reads from the log (on a virtual thread of
 * its own, never on the hub's) whatever a batch does not connect to.
 */
final class LiveStream implements WriteListener, AsyncListener {

    private static final Logger log = LoggerFactory.getLogger(LiveStream.class);

    private static final byte[] PING = ": ping\n\n".getBytes(StandardCharsets.US_ASCII);

    private final EventStreams streams;

    private final Subscription subscription;

    private final AsyncContext async;

    private final ServletOutputStream out;

    private final long heartbeatNanos;

    /**
     * Signals not yet handled; the signal that raises it from 0 runs the pump (see
     * {@link #pump()}).
     */
    private final AtomicInteger signals = new AtomicInteger();

    private final AtomicBoolean finished = new AtomicBoolean();

    // Touched by the pump only (one thread at a time, each run ordered after the previous
    // by `signals`).
    private long cursor;

    private final ArrayDeque<Frame> pending = new ArrayDeque<>();

    private int pendingFromHub;

    private final ArrayDeque<Frame> fromLog = new ArrayDeque<>();

    private boolean catchingUp;

    private long gapAccepted = -1;

    private boolean unflushed;

    private boolean ending;

    private volatile @Nullable List<Frame> caughtUp;

    private volatile @Nullable Throwable catchUpFailure;

    private volatile boolean pingDue;

    private volatile boolean tooOld;

    /** A failure the container reported (onError); the pump ends the stream for it. */
    private volatile @Nullable Throwable containerFailure;

    private volatile long lastWrite = System.nanoTime();

    private volatile @Nullable ScheduledFuture<?> heartbeatTimer;

    private volatile @Nullable ScheduledFuture<?> ageTimer;

    /**
     * Who watches through this stream (told to StreamWatchers when it ends), if known.
     */
    private volatile @Nullable StreamWatch watch;

    private LiveStream(EventStreams streams, Subscription subscription, AsyncContext async, ServletOutputStream out,
            long cursor, Duration heartbeat) {
        this.streams = streams;
        this.subscription = subscription;
        this.async = async;
        this.out = out;
        this.cursor = cursor;
        this.heartbeatNanos = heartbeat.toNanos();
    }

    /**
     * Goes async on the request's thread, after the replay; from here on nothing blocks
     * on this stream.
     */
    static void start(EventStreams streams, Subscription subscription, AsyncContext async, ServletOutputStream out,
            long cursor, Duration heartbeat, Duration maxAge) {
        start(streams, subscription, async, out, cursor, heartbeat, maxAge, null);
    }

    /**
     * Like
     * {@link #start(EventStreams, Subscription, AsyncContext, ServletOutputStream, long, Duration, Duration)}
     * for a stream that {@link StreamWatchers} were told opened: they are told when it
     * ends.
     */
    static void start(EventStreams streams, Subscription subscription, AsyncContext async, ServletOutputStream out,
            long cursor, Duration heartbeat, Duration maxAge, @Nullable StreamWatch watch) {
        LiveStream stream = new LiveStream(streams, subscription, async, out, cursor, heartbeat);
        stream.watch = watch;
        try {
            async.setTimeout(0); // ended by the stream itself: session end, age,
                                 // shutdown,
                                 // a failed write
            async.addListener(stream);
            // Up to 10 % earlier at random: streams opened together (after a deploy) do
            // not all end, and reconnect, in the same moment.
            long age = maxAge.toNanos()
                    - java.util.concurrent.ThreadLocalRandom.current().nextLong(maxAge.toNanos() / 10 + 1);
            stream.ageTimer = streams.timers().schedule(stream::reachedAge, age, TimeUnit.NANOSECONDS);
            stream.scheduleHeartbeat(stream.heartbeatNanos);
            out.setWriteListener(stream);
        }
        catch (RuntimeException e) {
            // Not live after all (timers refused during shutdown): released here, once
            // (the watchers are told it closed exactly once, whether or not the caller's
            // async.complete() reaches onComplete).
            if (stream.finished.compareAndSet(false, true)) {
                stream.release();
            }
            throw e;
        }
        // Batches queued during the replay are written now; every later offer signals.
        subscription.listen(stream::pump);
    }

    /**
     * Something may be there to write (or the stream must end): see the class comment.
     */
    void pump() {
        if (signals.getAndIncrement() != 0) {
            return; // the thread in the pump sees this signal before it leaves
        }
        int seen = 1;
        do {
            try {
                drain();
            }
            catch (IOException e) {
                finish(EventStreams.timedOut(e));
            }
            catch (RuntimeException | Error e) {
                // Whatever it was, the pump must give its turn back below, or no signal
                // would ever
                // be acted on again and the stream would stay open and subscribed for
                // good.
                log.debug("Stream of session {} failed: {}", subscription.sessionId, e.toString());
                finish(false);
            }
            seen = signals.addAndGet(-seen);
        }
        while (seen != 0);
    }

    private void drain() throws IOException {
        if (finished.get()) {
            return;
        }
        Throwable failure = containerFailure;
        if (failure != null) {
            finish(EventStreams.timedOut(failure)); // reported by the container; ended
                                                    // here, by the pump
            return;
        }
        if (subscription.overflowed()) {
            finish(true); // too slow: its buffer overflowed
            return;
        }
        if (catchUpFailure != null) {
            finish(false);
            return;
        }
        if (subscription.closed() || tooOld) {
            ending = true;
            if (!out.isReady()) {
                // Shutdown or maximum age while a write is stuck: not worth waiting for.
                // The client
                // drops the half-received event and resumes with Last-Event-ID.
                finish(false);
                return;
            }
        }
        while (!finished.get() && out.isReady()) { // when not ready, the container calls
                                                   // onWritePossible later
            if (ending) {
                if (unflushed) {
                    flush();
                    continue;
                }
                finish(false);
                return;
            }
            // A message without an id (who is watching) goes between events: it moves no
            // cursor.
            byte[] unnumbered = subscription.takeUnnumbered();
            if (unnumbered != null) {
                out.write(unnumbered);
                unflushed = true;
                continue;
            }
            Frame frame = next();
            if (frame == null) {
                if (unflushed) {
                    flush();
                }
                else if (pingDue && !catchingUp) {
                    pingDue = false;
                    out.write(PING);
                    unflushed = true;
                }
                else {
                    return;
                }
                continue;
            }
            // The output may keep a reference to the bytes until written: frames are
            // never changed.
            // isReady() again before the next call.
            out.write(frame.bytes());
            unflushed = true;
            cursor = frame.seq();
            streams.delivered(frame, streams.now()); // per frame: later batches are taken
                                                     // in this loop
            if (EventStreams.SESSION_ENDED.equals(frame.event().type())) {
                ending = true;
            }
        }
    }

    private void flush() throws IOException {
        unflushed = false;
        out.flush();
        lastWrite = System.nanoTime();
    }

    /**
     * The next frame to write in seq order, or null for now (nothing there, or a catch-up
     * read under way).
     */
    private @Nullable Frame next() {
        while (true) {
            if (catchingUp) {
                List<Frame> read = caughtUp;
                if (read == null) {
                    return null;
                }
                caughtUp = null;
                catchingUp = false;
                fromLog.addAll(read);
            }
            Frame frame = fromLog.pollFirst();
            if (frame != null) {
                if (frame.seq() > cursor) {
                    return frame;
                }
                continue;
            }
            frame = pending.peekFirst();
            if (frame == null) {
                subscription.consumed(pendingFromHub);
                pendingFromHub = 0;
                List<Frame> batch = subscription.takeAll();
                if (batch == null) {
                    return null;
                }
                pending.addAll(batch);
                pendingFromHub = batch.size();
                continue;
            }
            if (frame.seq() <= cursor) {
                pending.pollFirst();
                continue;
            }
            if (frame.seq() > cursor + 1 && frame.seq() != gapAccepted) {
                // The batch does not connect to what this stream sent: read the rest from
                // the log.
                catchingUp = true;
                gapAccepted = frame.seq(); // should the log not have them, go on after
                                           // that read
                catchUp(cursor, frame.seq() - 1);
                return null;
            }
            return pending.pollFirst();
        }
    }

    private void catchUp(long after, long upTo) {
        Thread.ofVirtual().name("stream-catch-up").start(() -> {
            try {
                caughtUp = streams.framesFromLog(subscription.sessionId, after, upTo);
            }
            catch (RuntimeException e) {
                log.debug("Catch-up read of session {} failed: {}", subscription.sessionId, e.toString());
                catchUpFailure = e;
            }
            pump();
        });
    }

    private void scheduleHeartbeat(long delayNanos) {
        try {
            ScheduledFuture<?> timer = streams.timers().schedule(this::heartbeat, delayNanos, TimeUnit.NANOSECONDS);
            heartbeatTimer = timer;
            if (finished.get()) {
                timer.cancel(false); // ended meanwhile: release() may have missed this
                                     // one
            }
        }
        catch (java.util.concurrent.RejectedExecutionException e) {
            // shutting down: the streams are being ended
        }
    }

    /** A ping once nothing was written for a heartbeat interval. */
    private void heartbeat() {
        if (finished.get()) {
            return;
        }
        long quiet = System.nanoTime() - lastWrite;
        if (quiet >= heartbeatNanos) {
            pingDue = true;
            pump();
            scheduleHeartbeat(heartbeatNanos);
        }
        else {
            scheduleHeartbeat(heartbeatNanos - quiet);
        }
    }

    private void reachedAge() {
        tooOld = true;
        pump();
    }

    /** Ends the stream once: unsubscribed, timers off, the async request completed. */
    private void finish(boolean slowClient) {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        try {
            release();
            if (slowClient) {
                streams.slowClientClosed();
            }
        }
        finally {
            try {
                async.complete();
            }
            catch (RuntimeException e) {
                // completed already (the container ended the request)
            }
        }
    }

    private void release() {
        streams.hub().unsubscribe(subscription);
        StreamWatch watching = watch;
        if (watching != null) {
            streams.closed(watching);
        }
        ScheduledFuture<?> timer = heartbeatTimer;
        if (timer != null) {
            timer.cancel(false);
        }
        timer = ageTimer;
        if (timer != null) {
            timer.cancel(false);
        }
    }

    // WriteListener

    @Override
    public void onWritePossible() {
        pump();
    }

    @Override
    public void onError(Throwable failure) {
        // A write failed: the client went away, or it stopped reading until the idle
        // timeout (too
        // slow). Ended by the pump, so that no other thread is still writing when it
        // completes.
        containerFailure = failure;
        pump();
    }

    // AsyncListener

    @Override
    public void onComplete(AsyncEvent event) {
        if (finished.compareAndSet(false, true)) {
            release();
        }
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        containerFailure = new IOException("async timeout"); // none is set; not a slow
                                                             // client either
        pump();
    }

    @Override
    public void onError(AsyncEvent event) {
        Throwable failure = event.getThrowable();
        containerFailure = failure != null ? failure : new IOException("async error");
        pump();
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        // not restarted
    }

}
