package dev.collab.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import tools.jackson.databind.JsonNode;

/**
 * A Server-Sent Events client that parses the stream the way the HTML spec says a
 * browser's EventSource does: fields {@code id}, {@code event}, {@code data} (joined by
 * newlines), {@code retry}; comment lines starting with ':'; an event is dispatched at a
 * blank line.
 */
public final class SseClient implements AutoCloseable {

    /**
     * One dispatched SSE message; {@code id} is the last event id as EventSource keeps it
     * (carried over from earlier messages), {@code idLine} whether this message had an
     * {@code id:} line of its own.
     */
    public record Message(String id, String event, String data, boolean idLine) {

        public Message(String id, String event, String data) {
            this(id, event, data, true);
        }

        public JsonNode json() {
            return Api.JSON.readTree(data);
        }

        public long seq() {
            return Long.parseLong(id);
        }
    }

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private final HttpResponse<InputStream> response;

    private final LinkedBlockingQueue<Message> messages = new LinkedBlockingQueue<>();

    /**
     * {@code presence} messages (who is watching, issue 16) apart: they come whenever
     * someone opens or closes a stream of the session, and tests of the log's events must
     * not see them among the events ({@link #nextPresence}).
     */
    private final LinkedBlockingQueue<Message> presence = new LinkedBlockingQueue<>();

    /** Every message in order of arrival, presence included. */
    private final List<Message> all = new CopyOnWriteArrayList<>();

    private final List<String> comments = new CopyOnWriteArrayList<>();

    private final Thread reader;

    private volatile Long retry;

    private volatile boolean ended;

    private SseClient(HttpResponse<InputStream> response) {
        this.response = response;
        this.reader = Thread.ofPlatform().daemon().name("sse-client").start(this::read);
    }

    /**
     * Opens a stream as the server's first admin (the default credentials of
     * {@link Api}).
     */
    public static SseClient connect(URI uri, String lastEventId) {
        String base = uri.getScheme() + "://" + uri.getRawAuthority();
        return connect(uri, lastEventId, Api.adminAuthorization(base));
    }

    /** Opens a stream with this {@code Authorization} header value (null: none). */
    public static SseClient connect(URI uri, String lastEventId, String authorization) {
        return connect(uri, lastEventId, "Authorization", authorization);
    }

    /**
     * Opens a stream with this header (null value: none), e.g. a browser's
     * {@code Cookie}.
     */
    public static SseClient connect(URI uri, String lastEventId, String header, String value) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).header("Accept", "text/event-stream").GET();
        if (value != null) {
            request.header(header, value);
        }
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        try {
            HttpRequest built = request.build();
            HttpResponse<InputStream> response = CLIENT.send(built, HttpResponse.BodyHandlers.ofInputStream());
            check(built, response);
            return new SseClient(response);
        }
        catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Holds the answer to the server's OpenAPI document: the status and headers of a
     * stream, the whole answer otherwise (a problem, a 204), which is then read here and
     * given back unread.
     */
    private static void check(HttpRequest request, HttpResponse<InputStream> response) throws IOException {
        URI uri = request.uri();
        ContractValidator validator = ContractValidator.forServer(uri.getScheme() + "://" + uri.getRawAuthority());
        String body = null;
        if (response.statusCode() != 200) {
            byte[] bytes = response.body().readAllBytes();
            body = new String(bytes, StandardCharsets.UTF_8);
        }
        validator.assertKept(new ContractValidator.Exchange(request.method(), uri.getRawPath(), uri.getRawQuery(),
                request.headers().map(), null, response.statusCode(), response.headers().map(), body), false);
    }

    public int status() {
        return response.statusCode();
    }

    public String contentType() {
        return response.headers().firstValue("Content-Type").orElse("");
    }

    private void read() {
        try (BufferedReader lines = new BufferedReader(
                new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String id = null;
            boolean idLine = false;
            String event = null;
            StringBuilder data = null;
            String line;
            while ((line = lines.readLine()) != null) {
                if (line.isEmpty()) {
                    if (data != null) {
                        Message message = new Message(id, event == null ? "message" : event, data.toString(), idLine);
                        all.add(message);
                        ("presence".equals(message.event()) ? presence : messages).add(message);
                    }
                    idLine = false;
                    event = null;
                    data = null;
                    continue;
                }
                if (line.startsWith(":")) {
                    comments.add(line.substring(1).trim());
                    continue;
                }
                int colon = line.indexOf(':');
                String field = colon < 0 ? line : line.substring(0, colon);
                String value = colon < 0 ? "" : line.substring(colon + 1);
                if (value.startsWith(" ")) {
                    value = value.substring(1);
                }
                switch (field) {
                    case "id" -> {
                        id = value;
                        idLine = true;
                    }
                    case "event" -> event = value;
                    case "data" -> data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                    case "retry" -> retry = Long.parseLong(value);
                    default -> {
                    }
                }
            }
        }
        catch (IOException e) {
            // closed by us or by the server
        }
        finally {
            ended = true;
        }
    }

    /** The next message, waiting up to {@code timeout}; null when none came. */
    public Message next(Duration timeout) {
        try {
            return messages.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /**
     * Exactly {@code count} messages, failing when they do not come within
     * {@code timeout}.
     */
    public List<Message> take(int count, Duration timeout) {
        List<Message> taken = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (taken.size() < count) {
            long left = deadline - System.nanoTime();
            Message message = left <= 0 ? null : next(Duration.ofNanos(left));
            if (message == null) {
                throw new AssertionError("got " + taken.size() + " of " + count + " messages: " + taken);
            }
            taken.add(message);
        }
        return taken;
    }

    /**
     * The next {@code presence} message, waiting up to {@code timeout}; null when none
     * came.
     */
    public Message nextPresence(Duration timeout) {
        try {
            return presence.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Every message so far, in order of arrival, {@code presence} ones included. */
    public List<Message> all() {
        return List.copyOf(all);
    }

    public List<String> comments() {
        return comments;
    }

    public Long retry() {
        return retry;
    }

    /** True once the server closed the stream (or we did). */
    public boolean ended() {
        return ended;
    }

    @Override
    public void close() {
        try {
            response.body().close();
        }
        catch (IOException e) {
            // closing
        }
        reader.interrupt();
    }

}
