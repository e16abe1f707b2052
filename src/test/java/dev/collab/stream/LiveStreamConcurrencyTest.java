package dev.collab.stream;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import dev.collab.event.Event;
import dev.collab.event.EventLog;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.WriteListener;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

/**
 * The live part of a stream against a fake output that follows Jetty 12
 * {@code HttpOutput}'s async states (and records every call it would reject): exactly
 * once and in order while the hub, the container callbacks, catch-up reads and timers
 * race; ended promptly on shutdown and on overflow while a write is stuck.
 */
class LiveStreamConcurrencyTest {

    static final UUID SESSION = UUID.randomUUID();
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final List<String> violations = new CopyOnWriteArrayList<>();

    static Event event(long seq, String type) {
        return new Event(seq, SESSION, type, Instant.now(), "{}");
    }

    static Frame frame(long seq, long last) {
        return Frame.of(event(seq, seq == last ? "session.ended" : "output"), JSON);
    }

    /** Jetty ee10/ee11 HttpOutput api states, simplified. */
    static final class FakeOut extends ServletOutputStream {

        enum Api {

            BLOCKING, READY, ASYNC, PENDING, UNREADY

        }

        Api api = Api.BLOCKING;

        WriteListener listener;

        final ByteArrayOutputStream aggregate = new ByteArrayOutputStream();

        final ByteArrayOutputStream wire = new ByteArrayOutputStream();

        final ScheduledExecutorService net = Executors.newScheduledThreadPool(2);

        volatile boolean stalled;

        volatile boolean completed;

        volatile int maxDelayMicros = 200;

        final List<Runnable> stalledCompletions = new CopyOnWriteArrayList<>();

        @Override
        public synchronized boolean isReady() {
            if (completed) {
                violations.add("isReady after complete");
            }
            switch (api) {
                case BLOCKING, READY:
                    return true;
                case ASYNC:
                    api = Api.READY;
                    return true;
                case PENDING:
                    api = Api.UNREADY;
                    return false;
                default:
                    return false;
            }
        }

        @Override
        public void setWriteListener(WriteListener writeListener) {
            synchronized (this) {
                api = Api.READY;
                listener = writeListener;
            }
            net.execute(() -> {
                try {
                    writeListener.onWritePossible();
                }
                catch (java.io.IOException e) {
                    throw new RuntimeException(e);
                }
            });
        }

        @Override
        public void write(int b) {
            write(new byte[] { (byte) b }, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            if (completed) {
                violations.add("write after complete");
                return;
            }
            switch (api) {
                case BLOCKING -> {
                    wire.write(b, off, len);
                    return;
                }
                case ASYNC -> {
                    violations.add("write: isReady() not called");
                    throw new IllegalStateException("isReady() not called");
                }
                case PENDING, UNREADY -> {
                    violations.add("write while pending");
                    throw new java.nio.channels.WritePendingException();
                }
                default -> {
                }
            }
            aggregate.write(b, off, len);
            if (aggregate.size() > 2048) {
                startWrite();
            }
            else {
                api = Api.ASYNC;
            }
        }

        @Override
        public synchronized void flush() {
            if (completed) {
                violations.add("flush after complete");
                return;
            }
            switch (api) {
                case BLOCKING -> {
                    return;
                }
                case ASYNC, PENDING -> {
                    violations.add("flush: isReady() not called");
                    throw new IllegalStateException("isReady() not called");
                }
                case UNREADY -> {
                    violations.add("flush while unready");
                    throw new java.nio.channels.WritePendingException();
                }
                default -> {
                }
            }
            startWrite();
        }

        private void startWrite() { // holding the lock
            api = Api.PENDING;
            byte[] bytes = aggregate.toByteArray();
            aggregate.reset();
            Runnable done = () -> {
                boolean wake;
                synchronized (this) {
                    wire.write(bytes, 0, bytes.length);
                    wake = api == Api.UNREADY;
                    api = wake ? Api.READY : Api.ASYNC;
                }
                if (wake && !completed) {
                    try {
                        listener.onWritePossible();
                    }
                    catch (java.io.IOException e) {
                        throw new RuntimeException(e);
                    }
                }
            };
            if (stalled) {
                stalledCompletions.add(done);
            }
            else if (ThreadLocalRandom.current().nextInt(4) == 0) {
                done.run(); // completes at once, as Jetty often does
            }
            else {
                net.schedule(done, ThreadLocalRandom.current().nextInt(maxDelayMicros), TimeUnit.MICROSECONDS);
            }
        }

        synchronized String wireText() {
            return wire.toString(StandardCharsets.UTF_8);
        }

    }

    static final class FakeAsync implements AsyncContext {

        final FakeOut out;

        final List<AsyncListener> listeners = new CopyOnWriteArrayList<>();

        final AtomicInteger completes = new AtomicInteger();

        volatile String apiAtComplete;

        FakeAsync(FakeOut out) {
            this.out = out;
        }

        @Override
        public void complete() {
            if (completes.incrementAndGet() > 1) {
                violations.add("complete twice");
                throw new IllegalStateException("completed");
            }
            synchronized (out) {
                apiAtComplete = out.api.name();
                if (out.api != FakeOut.Api.UNREADY) {
                    out.wire.write(out.aggregate.toByteArray(), 0, out.aggregate.size());
                }
                out.completed = true;
            }
            for (AsyncListener l : listeners) {
                try {
                    l.onComplete(new AsyncEvent(this));
                }
                catch (java.io.IOException e) {
                    throw new RuntimeException(e);
                }
            }
        }

        @Override
        public void addListener(AsyncListener listener) {
            listeners.add(listener);
        }

        @Override
        public void setTimeout(long timeout) {
        }

        @Override
        public ServletRequest getRequest() {
            throw new UnsupportedOperationException();
        }

        @Override
        public ServletResponse getResponse() {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean hasOriginalRequestAndResponse() {
            return true;
        }

        @Override
        public void dispatch() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void dispatch(String path) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void dispatch(ServletContext context, String path) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void start(Runnable run) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void addListener(AsyncListener listener, ServletRequest request, ServletResponse response) {
            listeners.add(listener);
        }

        @Override
        public <T extends AsyncListener> T createListener(Class<T> clazz) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long getTimeout() {
            return 0;
        }

    }

    static List<Long> ids(String wire) {
        List<Long> ids = new ArrayList<>();
        for (String line : wire.split("\n")) {
            if (line.startsWith("id: ")) {
                ids.add(Long.parseLong(line.substring(4)));
            }
        }
        return ids;
    }

    EventLog eventLog = mock(EventLog.class);

    StreamHub hub = mock(StreamHub.class);

    SimpleMeterRegistry registry = new SimpleMeterRegistry();

    EventStreams streams(long last) {
        when(eventLog.readRange(any(), anyLong(), anyLong())).thenAnswer(invocation -> {
            long after = invocation.getArgument(1);
            long upTo = invocation.getArgument(2);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(ThreadLocalRandom.current().nextInt(3))); // a
                                                                                                          // query's
                                                                                                          // time
            List<Event> events = new ArrayList<>();
            for (long s = after + 1; s <= upTo; s++) {
                events.add(event(s, s == last ? "session.ended" : "output"));
            }
            return events;
        });
        when(hub.recentFrames(any(), anyLong(), anyLong())).thenReturn(null); // the hub's
                                                                              // memory:
                                                                              // none here
        return new EventStreams(eventLog, hub, new StreamReads(4, Duration.ofMinutes(1), registry),
                new StreamProperties(200, Duration.ofMillis(2), 1_000_000, Duration.ofMinutes(5),
                        org.springframework.util.unit.DataSize.ofMegabytes(1),
                        org.springframework.util.unit.DataSize.ofMegabytes(256), 8, Duration.ofMinutes(1),
                        Duration.ofSeconds(15)),
                JSON, Clock.systemUTC(), registry,
                new org.springframework.beans.factory.support.StaticListableBeanFactory()
                    .getBeanProvider(StreamWatchers.class));
    }

    @Test
    void exactlyOnceInOrderUnderRacesWithGapsAndOverlaps() throws Exception {
        for (int round = 0; round < 20; round++) {
            violations.clear();
            long last = 5_000;
            EventStreams streams = streams(last);
            FakeOut out = new FakeOut();
            FakeAsync async = new FakeAsync(out);
            Subscription sub = new Subscription(SESSION, 1_000_000);
            long cursor = 10;
            out.write(("retry: 3000\n\n").getBytes(StandardCharsets.UTF_8)); // the
                                                                             // blocking
                                                                             // replay
                                                                             // part
            sub.offer(List.of(frame(5, last), frame(6, last))); // queued during the
                                                                // replay, overlapping it
            LiveStream.start(streams, sub, async, out, cursor, Duration.ofMillis(2), Duration.ofMinutes(5));
            ThreadLocalRandom random = ThreadLocalRandom.current();
            long next = 7;
            while (next <= last) {
                int size = 1 + random.nextInt(20);
                long from = next;
                if (random.nextInt(15) == 0) {
                    from += 1 + random.nextInt(30); // a batch that does not connect: read
                                                    // from the log
                }
                else if (random.nextInt(10) == 0) {
                    from = Math.max(1, from - random.nextInt(10)); // overlapping what was
                                                                   // sent
                }
                from = Math.min(from, last);
                long to = Math.min(last, from + size - 1);
                List<Frame> batch = new ArrayList<>();
                for (long seq = from; seq <= to; seq++) {
                    batch.add(frame(seq, last));
                }
                sub.offer(batch);
                next = Math.max(next, to + 1);
                if (random.nextInt(50) == 0) {
                    Thread.yield();
                }
            }
            int current = round;
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(async.completes.get()).as("completed after session.ended, round %d", current).isEqualTo(1);
                verify(hub, times(1)).unsubscribe(sub);
            });
            List<Long> expected = new ArrayList<>();
            for (long seq = cursor + 1; seq <= last; seq++) {
                expected.add(seq);
            }
            assertThat(violations).as("calls Jetty would reject").isEmpty();
            assertThat(ids(out.wireText())).as("round %d", round).isEqualTo(expected);
            out.net.shutdownNow();
            streams.stop();
            hub = mock(StreamHub.class);
        }
    }

    /**
     * A live stream whose client has stopped reading: every write from now on stays
     * pending.
     */
    private record Stalled(EventStreams streams, FakeOut out, FakeAsync async,
            Subscription sub) implements AutoCloseable {
        @Override
        public void close() {
            out.net.shutdownNow();
            streams.stop();
        }
    }

    private Stalled stalledStream(int bufferEvents) {
        violations.clear();
        EventStreams streams = streams(Long.MAX_VALUE);
        FakeOut out = new FakeOut();
        FakeAsync async = new FakeAsync(out);
        Subscription sub = new Subscription(SESSION, bufferEvents);
        LiveStream.start(streams, sub, async, out, 0, Duration.ofSeconds(15), Duration.ofMinutes(5));
        out.stalled = true;
        return new Stalled(streams, out, async, sub);
    }

    @Test
    void shutdownEndsAStreamWhoseClientStoppedReading() {
        try (Stalled stream = stalledStream(1_000_000)) {
            List<Frame> batch = new ArrayList<>();
            for (long seq = 1; seq <= 100; seq++) {
                batch.add(frame(seq, Long.MAX_VALUE));
            }
            stream.sub().offer(batch);
            await().atMost(Duration.ofSeconds(10)).until(() -> !stream.out().stalledCompletions.isEmpty());

            stream.sub().close(); // what StreamHub does to every stream on shutdown

            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(stream.async().completes.get()).as("completed without waiting for the client").isEqualTo(1);
                verify(hub, times(1)).unsubscribe(stream.sub());
            });
            assertThat(violations).isEmpty();
        }
    }

    @Test
    void anOverflowWhileAWriteIsStuckEndsTheStreamAsASlowClient() {
        try (Stalled stream = stalledStream(1000)) {
            long seq = 1;
            for (int b = 0; b < 30; b++) {
                List<Frame> batch = new ArrayList<>();
                for (int i = 0; i < 50; i++, seq++) {
                    batch.add(frame(seq, Long.MAX_VALUE));
                }
                stream.sub().offer(batch);
            }
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(stream.async().completes.get()).isEqualTo(1);
                assertThat(registry.get("collab.stream.slow.clients.closed").counter().count()).isEqualTo(1);
            });
            assertThat(violations).isEmpty();
        }
    }

}
