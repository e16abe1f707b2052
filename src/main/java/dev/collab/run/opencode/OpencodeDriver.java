package dev.collab.run.opencode;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.collab.run.AgentEvent;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Drives one prompt through an {@code opencode serve} process (opencode 1.x server API,
 * documented at https://opencode.ai/v1/docs/server): waits for the line announcing where
 * it listens, creates an opencode session or reuses the stored one, subscribes to
 * {@code GET /event} before it sends the prompt ({@code POST
 * /session/{id}/prompt_async}), turns the session's events into {@link AgentEvent}s,
 * answers permission requests ({@code POST /permission/{requestID}/reply}, or the
 * deprecated session-scoped route of a server from before opencode's permission rework)
 * with what {@link PermissionAsker} decides, and returns once the session is idle.
 * <p>
 * Everything reaches {@code events} on the calling thread, in order: event data that is
 * not JSON as {@code output} events (never dropped), and the typed events. The server's
 * stdout lines become {@code output} events on the thread that reads stdout
 * ({@link Stdout}: the runner's reader, the pipe's one reader). The caller owns the
 * process: it starts it, and stops it (its whole tree) after {@link #run} returned or
 * threw; when the process dies, or the calling thread is interrupted, {@code run} returns
 * at once (by exception). Only loopback addresses are accepted, every request carries the
 * run's password (HTTP basic auth, user {@code opencode}), and the password never appears
 * in an event or exception.
 */
public final class OpencodeDriver {

    /**
     * opencode's user name for basic auth unless OPENCODE_SERVER_USERNAME says another.
     */
    public static final String USER = "opencode";

    // "opencode server listening on http://127.0.0.1:4096" (opencode 1.x serve.ts);
    // newer servers print "server listening on …": both match.
    private static final Pattern LISTENING = Pattern.compile("listening on (https?://\\S+)");

    private static final int MAX_EVENT_CHARS = 8 * 1024 * 1024;

    /** A line of the server's stdout longer than this is cut (the rest skipped). */
    private static final int MAX_LINE_CHARS = 65_536;

    private static final int MAX_REPORTED_CHARS = 4_000;

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Duration startupTimeout;

    private final Duration requestTimeout;

    /**
     * @param startupTimeout how long the server may take to say where it listens
     * @param requestTimeout how long one HTTP request (not the event stream) may take
     */
    public OpencodeDriver(Duration startupTimeout, Duration requestTimeout) {
        this.startupTimeout = startupTimeout;
        this.requestTimeout = requestTimeout;
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    /** A password for one run's server: 32 random bytes, URL-safe Base64. */
    public static String newPassword() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /**
     * What the runner adds to a run's environment for opencode: the server's password,
     * and opencode's data directory inside the workspace ({@code .collab/opencode}),
     * where its sessions live so that any instance can continue them.
     */
    public static Map<String, String> environment(Path workspace, String password) {
        return Map.of("OPENCODE_SERVER_PASSWORD", password, "XDG_DATA_HOME",
                workspace.resolve(".collab").resolve("opencode").toString());
    }

    /** The arguments the protocol appends to the operator's command. */
    public static List<String> serveArguments() {
        return List.of("serve", "--hostname", "127.0.0.1", "--port", "0");
    }

    /**
     * Asks a person (at integration: the approval gate) whether a tool may run.
     */
    @FunctionalInterface
    public interface PermissionAsker {

        /**
         * @param tool the tool's name
         * @param input the tool's input (a JSON object)
         * @return completes once with the decision; an exceptional completion denies
         */
        CompletableFuture<PermissionDecision> ask(String tool, JsonNode input);

    }

    /**
     * A decision for opencode.
     *
     * @param allowed the tool may run this once
     * @param message for a denial: what opencode tells the model instead, or null
     */
    public record PermissionDecision(boolean allowed, @Nullable String message) {
    }

    /**
     * The outcome of a prompt.
     *
     * @param agentSessionId the opencode session the prompt went to: store it, and give
     * it to the next run to continue the conversation
     */
    public record Result(String agentSessionId) {
    }

    /**
     * Sends {@code prompt} to the server that {@code process} runs and follows it until
     * the session is idle.
     * @param process {@code opencode serve …}, started, its stdout not read by anyone
     * else
     * @param password the server's {@code OPENCODE_SERVER_PASSWORD}
     * @param agentSessionId the stored opencode session to continue, or null for a new
     * one (also when the stored one no longer exists)
     * @throws OpencodeException when the server does not start in time, refuses us, the
     * session fails, the process dies or the stream ends before the session is idle
     * @throws InterruptedException when the calling thread is interrupted (the run is
     * being stopped)
     */
    public Result run(Process process, String password, @Nullable String agentSessionId, String prompt,
            Consumer<AgentEvent> events, PermissionAsker asker) throws InterruptedException {
        Stdout stdout = new Stdout(events);
        Thread.ofVirtual()
            .name("opencode-stdout-" + process.pid())
            .start(() -> stdout.readAll(process.getInputStream()));
        return run(process, stdout, password, agentSessionId, prompt, events, asker);
    }

    /**
     * As {@link #run(Process, String, String, String, Consumer, PermissionAsker)}, with
     * the server's stdout read by its owner (the runner's reader thread) through
     * {@code stdout}: the one reader of that pipe.
     * @param stdout where the owner of the process's stdout hands it over
     * ({@link Stdout#readAll}); its lines reach its own consumer, on the reading thread
     */
    public Result run(Process process, Stdout stdout, String password, @Nullable String agentSessionId, String prompt,
            Consumer<AgentEvent> events, PermissionAsker asker) throws InterruptedException {
        BlockingQueue<Item> queue = new LinkedBlockingQueue<>();
        List<CompletableFuture<?>> pending = new ArrayList<>();
        try (Connection connection = new Connection(connect(process, stdout), password)) {
            String sessionId = connection.session(agentSessionId);
            EventTranslator translator = new EventTranslator(sessionId, events);
            InputStream stream = connection.subscribe();
            Thread.ofVirtual().name("opencode-events-" + process.pid()).start(() -> pumpEvents(stream, queue));
            awaitFirstEvent(process, queue, events, translator);
            connection.prompt(sessionId, prompt);
            while (true) {
                Item item = next(process, queue, this.requestTimeout);
                if (item instanceof Item.Timeout) {
                    continue;
                }
                EventTranslator.Step step = handle(item, process, events, translator);
                switch (step) {
                    case EventTranslator.Step.Idle idle -> {
                        return new Result(sessionId);
                    }
                    case EventTranslator.Step.Failed failed ->
                        throw new OpencodeException("opencode reported an error: " + cut(failed.message()));
                    case EventTranslator.Step.Permission permission ->
                        pending.add(answer(connection, sessionId, permission, asker, queue));
                    case EventTranslator.Step.Continue next -> {
                    }
                }
            }
        }
        finally {
            // The run is over either way: answers still waiting no longer reach anyone.
            pending.forEach(future -> future.cancel(true));
        }
    }

    /** Waits (boundedly) for stdout's line saying where the server listens. */
    private URI connect(Process process, Stdout stdout) throws InterruptedException {
        long deadline = System.nanoTime() + this.startupTimeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new OpencodeException(
                        "opencode serve did not say where it listens within " + this.startupTimeout.toSeconds() + " s");
            }
            try {
                return loopback(
                        stdout.listening.get(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)), TimeUnit.NANOSECONDS));
            }
            catch (TimeoutException ex) {
                // Not yet: the end of stdout or the deadline, or the next look.
            }
            catch (ExecutionException ex) {
                throw new OpencodeException("opencode's stdout could not be read", ex);
            }
            // The address is given before the end is: an ended stdout without one is
            // a server that exited (or closed its output) first.
            if (stdout.ended.isDone() && !stdout.listening.isDone()) {
                throw new OpencodeException(exited(process, "before it said where it listens"));
            }
        }
    }

    private static URI loopback(String url) {
        URI uri;
        try {
            uri = URI.create(url.endsWith("/") ? url : url + "/");
        }
        catch (IllegalArgumentException ex) {
            throw new OpencodeException("opencode serve announced an address that is not a URL: " + cut(url));
        }
        String host = uri.getHost();
        try {
            if (host == null || !"http".equals(uri.getScheme()) || !InetAddress.getByName(host).isLoopbackAddress()) {
                throw new OpencodeException(
                        "opencode serve listens on " + cut(url) + ", not on a loopback http address: refused");
            }
        }
        catch (IOException ex) {
            throw new OpencodeException("opencode serve listens on an unknown host: " + cut(url));
        }
        return uri;
    }

    /**
     * opencode sends {@code server.connected} as soon as a subscriber is registered:
     * waiting for it (boundedly) makes sure the prompt's first events are not missed.
     */
    private void awaitFirstEvent(Process process, BlockingQueue<Item> queue, Consumer<AgentEvent> events,
            EventTranslator translator) throws InterruptedException {
        long deadline = System.nanoTime() + this.requestTimeout.toNanos();
        while (System.nanoTime() < deadline) {
            Item item = next(process, queue, Duration.ofNanos(Math.max(deadline - System.nanoTime(), 1)));
            if (item instanceof Item.Timeout) {
                return;
            }
            handle(item, process, events, translator);
            if (item instanceof Item.Event) {
                return;
            }
        }
    }

    /**
     * The next item, or {@link Item.Timeout} after {@code wait}; a dead process with
     * nothing left to read ends the run.
     */
    private static Item next(Process process, BlockingQueue<Item> queue, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            Item item = queue.poll(
                    Math.min(Math.max(deadline - System.nanoTime(), 0), TimeUnit.MILLISECONDS.toNanos(200)),
                    TimeUnit.NANOSECONDS);
            if (item != null) {
                return item;
            }
            if (!process.isAlive() && queue.isEmpty()) {
                throw new OpencodeException(exited(process, "before the session was idle"));
            }
            if (System.nanoTime() >= deadline) {
                return new Item.Timeout();
            }
        }
    }

    private static EventTranslator.Step handle(Item item, Process process, Consumer<AgentEvent> events,
            EventTranslator translator) {
        return switch (item) {
            case Item.Event(SseParser.SseEvent event) -> event(event, events, translator);
            case Item.Notice(String text) -> {
                events.accept(output(text));
                yield new EventTranslator.Step.Continue();
            }
            case Item.EventsEnded ended -> {
                translator.flush();
                // The stream ends a moment before the process's exit is seen: wait
                // for it briefly, so that a crash is reported as one.
                throw new OpencodeException(exitedYet(process) ? exited(process, "before the session was idle")
                        : "opencode's event stream ended before the session was idle");
            }
            case Item.Timeout timeout -> new EventTranslator.Step.Continue();
        };
    }

    private static EventTranslator.Step event(SseParser.SseEvent event, Consumer<AgentEvent> events,
            EventTranslator translator) {
        JsonNode json;
        try {
            json = event.truncated() ? null : JSON.readTree(event.data());
        }
        catch (JacksonException ex) {
            json = null;
        }
        if (json == null || !json.isObject()) {
            // Kept, never dropped: whoever reads the log sees what opencode sent.
            events.accept(output("[opencode event that could not be read" + (event.truncated() ? ", cut" : "") + "] "
                    + cut(event.data())));
            return new EventTranslator.Step.Continue();
        }
        return translator.handle(json);
    }

    private CompletableFuture<?> answer(Connection connection, String sessionId,
            EventTranslator.Step.Permission permission, PermissionAsker asker, BlockingQueue<Item> queue) {
        CompletableFuture<PermissionDecision> decision;
        try {
            decision = asker.ask(permission.tool(), permission.input());
        }
        catch (RuntimeException ex) {
            decision = CompletableFuture.failedFuture(ex);
        }
        return decision
            .exceptionally(ex -> new PermissionDecision(false, "The permission request could not be decided."))
            .thenCompose(answer -> connection.reply(sessionId, permission.requestId(), answer))
            .exceptionally(ex -> {
                queue.add(new Item.Notice("[collab-server] the answer to opencode's permission request "
                        + permission.requestId() + " could not be sent"));
                return null;
            });
    }

    private static void pumpEvents(InputStream stream, BlockingQueue<Item> queue) {
        SseParser parser = new SseParser(MAX_EVENT_CHARS);
        try (InputStreamReader reader = new InputStreamReader(stream, StandardCharsets.UTF_8)) {
            // A line longer than an event may be is cut a little past the cap, so that
            // the
            // parser sees it overflow and marks the event as cut.
            LineReader lines = new LineReader(reader, MAX_EVENT_CHARS + 64);
            LineReader.Line line;
            while ((line = lines.next()) != null) {
                parser.line(line.text()).ifPresent(event -> queue.add(new Item.Event(event)));
            }
        }
        catch (IOException ex) {
            // A broken connection ends the stream like its end does.
        }
        parser.end();
        queue.add(new Item.EventsEnded());
    }

    private static boolean exitedYet(Process process) {
        try {
            return process.waitFor(1, TimeUnit.SECONDS);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    private static String exited(Process process, String when) {
        exitedYet(process);
        return process.isAlive() ? "opencode serve closed its output " + when
                : "opencode serve exited (code " + process.exitValue() + ") " + when;
    }

    private static AgentEvent output(String line) {
        return new AgentEvent("output", Map.of("stream", "stdout", "text", line + "\n"));
    }

    private static String cut(String text) {
        return text.length() <= MAX_REPORTED_CHARS ? text : text.substring(0, MAX_REPORTED_CHARS) + "…";
    }

    /**
     * The server's stdout as its one reader hands it over: {@link #readAll} reads it to
     * its end on the caller's thread, gives every line to the consumer at once as an
     * {@code output} event (a line longer than 65,536 characters cut, the rest skipped:
     * bounded), and tells the driver where the server listens and when stdout ended.
     * Nothing is queued: a run's stdout reaches the log whether or not the driver still
     * runs.
     */
    public static final class Stdout {

        private final Consumer<AgentEvent> lines;

        final CompletableFuture<String> listening = new CompletableFuture<>();

        final CompletableFuture<Void> ended = new CompletableFuture<>();

        /**
         * @param lines gets each line of stdout, as an {@code output} event
         */
        public Stdout(Consumer<AgentEvent> lines) {
            this.lines = lines;
        }

        /** Reads {@code stream} to its end (or until it is closed); never throws. */
        public void readAll(InputStream stream) {
            try (InputStreamReader reader = new InputStreamReader(stream, StandardCharsets.UTF_8)) {
                LineReader lines = new LineReader(reader, MAX_LINE_CHARS);
                LineReader.Line line;
                while ((line = lines.next()) != null) {
                    String text = line.cut()
                            ? line.text() + " [collab-server: line cut at " + MAX_LINE_CHARS + " characters]"
                            : line.text();
                    this.lines.accept(output(text));
                    if (!this.listening.isDone()) {
                        Matcher matcher = LISTENING.matcher(text);
                        if (matcher.find()) {
                            this.listening.complete(matcher.group(1));
                        }
                    }
                }
            }
            catch (IOException ex) {
                // The process is gone or its stream was closed: the end of stdout.
            }
            finally {
                this.ended.complete(null);
            }
        }

    }

    /** What the reading threads hand to the driver's thread. */
    private sealed interface Item {

        record Event(SseParser.SseEvent event) implements Item {
        }

        record EventsEnded() implements Item {
        }

        record Notice(String text) implements Item {
        }

        record Timeout() implements Item {
        }

    }

    /** The HTTP side: one client per run, every request with the run's password. */
    private final class Connection implements AutoCloseable {

        private final URI base;

        private final String authorization;

        private final HttpClient client;

        private @Nullable InputStream stream;

        Connection(URI base, String password) {
            this.base = base;
            this.authorization = "Basic "
                    + Base64.getEncoder().encodeToString((USER + ":" + password).getBytes(StandardCharsets.UTF_8));
            this.client = HttpClient.newBuilder()
                .connectTimeout(OpencodeDriver.this.requestTimeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .proxy(HttpClient.Builder.NO_PROXY)
                .build();
        }

        String session(@Nullable String stored) throws InterruptedException {
            if (stored != null && !stored.isBlank()) {
                HttpResponse<String> existing = send(request("session/" + encode(stored)).GET());
                if (existing.statusCode() == 200) {
                    return stored;
                }
                if (existing.statusCode() != 404) {
                    throw failed("looking up session", existing);
                }
                // Gone (its store was removed): a new conversation, not a failed run.
            }
            HttpResponse<String> created = send(request("session").POST(json(JSON.createObjectNode())));
            if (created.statusCode() / 100 != 2) {
                throw failed("creating a session", created);
            }
            String id = read(created.body()).path("id").asString("");
            if (id.isEmpty()) {
                throw new OpencodeException("opencode created a session without an id");
            }
            return id;
        }

        InputStream subscribe() throws InterruptedException {
            HttpRequest request = HttpRequest.newBuilder(this.base.resolve("event"))
                .header("Authorization", this.authorization)
                .header("Accept", "text/event-stream")
                .GET()
                .build();
            HttpResponse<InputStream> response;
            try {
                response = this.client.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream())
                    .get(OpencodeDriver.this.requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
            }
            catch (ExecutionException | TimeoutException ex) {
                throw new OpencodeException("opencode's event stream could not be opened", ex);
            }
            if (response.statusCode() != 200) {
                closeQuietly(response.body());
                throw new OpencodeException("opencode refused the event stream (HTTP " + response.statusCode()
                        + (response.statusCode() == 401 ? ": the password was not accepted" : "") + ")");
            }
            this.stream = response.body();
            return response.body();
        }

        void prompt(String sessionId, String prompt) throws InterruptedException {
            ObjectNode body = JSON.createObjectNode();
            ObjectNode part = body.putArray("parts").addObject();
            part.put("type", "text");
            part.put("text", prompt);
            HttpResponse<String> response = send(
                    request("session/" + encode(sessionId) + "/prompt_async").POST(json(body)));
            if (response.statusCode() / 100 != 2) {
                throw failed("sending the prompt", response);
            }
        }

        /**
         * {@code POST /permission/{requestID}/reply}; a server from before opencode's
         * permission rework has no such route (404) and takes the same answer at the
         * deprecated {@code POST /session/{id}/permissions/{permissionID}}.
         */
        CompletableFuture<Void> reply(String sessionId, String requestId, PermissionDecision decision) {
            String answer = decision.allowed() ? "once" : "reject";
            ObjectNode body = JSON.createObjectNode();
            body.put("reply", answer);
            if (!decision.allowed() && decision.message() != null) {
                body.put("message", decision.message());
            }
            return post("permission/" + encode(requestId) + "/reply", body).thenCompose(status -> {
                if (status != 404) {
                    return CompletableFuture.completedFuture(status);
                }
                ObjectNode legacy = JSON.createObjectNode();
                legacy.put("response", answer);
                return post("session/" + encode(sessionId) + "/permissions/" + encode(requestId), legacy);
            }).thenAccept(status -> {
                if (status / 100 != 2) {
                    throw new OpencodeException("opencode refused the permission reply (HTTP " + status + ")");
                }
            });
        }

        private CompletableFuture<Integer> post(String path, JsonNode body) {
            return this.client.sendAsync(request(path).POST(json(body)).build(), HttpResponse.BodyHandlers.discarding())
                .thenApply(HttpResponse::statusCode);
        }

        private HttpRequest.Builder request(String path) {
            return HttpRequest.newBuilder(this.base.resolve(path))
                .timeout(OpencodeDriver.this.requestTimeout)
                .header("Authorization", this.authorization)
                .header("Accept", "application/json");
        }

        private HttpResponse<String> send(HttpRequest.Builder request) throws InterruptedException {
            try {
                return this.client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            }
            catch (IOException ex) {
                throw new OpencodeException("opencode did not answer: " + ex.getClass().getSimpleName(), ex);
            }
        }

        private static HttpRequest.BodyPublisher json(JsonNode body) {
            return HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8);
        }

        private static JsonNode read(String body) {
            try {
                return JSON.readTree(body);
            }
            catch (JacksonException ex) {
                throw new OpencodeException("opencode answered with something that is not JSON: " + cut(body));
            }
        }

        private static OpencodeException failed(String what, HttpResponse<String> response) {
            return new OpencodeException("opencode refused " + what + " (HTTP " + response.statusCode()
                    + (response.statusCode() == 401 ? ": the password was not accepted" : "") + ")");
        }

        private static String encode(String segment) {
            return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
        }

        @Override
        public void close() {
            if (this.stream != null) {
                closeQuietly(this.stream);
            }
            this.client.shutdownNow();
        }

        private static void closeQuietly(InputStream stream) {
            try {
                stream.close();
            }
            catch (IOException ex) {
                // Closing a stream we are done with: nothing to do about it.
            }
        }

    }

}
