package dev.collab.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A small real-HTTP client for tests: what a browser or curl would send, nothing mocked.
 * Every response is checked against the server's own OpenAPI document
 * ({@link ContractValidator}): a response that breaks it fails the test. Requests are
 * checked when the server accepted them, and always on an Api from
 * {@link #checkingRequests()} (for tests that mean to send valid ones).
 */
public final class Api {

    public static final JsonMapper JSON = JsonMapper.builder().build();

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private final String base;

    private final boolean checkRequests;

    private final boolean checkContract;

    public Api(int port) {
        this("http://localhost:" + port);
    }

    public Api(String base) {
        this(base, false, true);
    }

    private Api(String base, boolean checkRequests, boolean checkContract) {
        this.base = base;
        this.checkRequests = checkRequests;
        this.checkContract = checkContract;
    }

    /**
     * The same client, failing the test also when a request it sends breaks the document.
     */
    public Api checkingRequests() {
        return new Api(base, true, checkContract);
    }

    /**
     * A client that holds nothing to the document, for a server that has none to give on
     * purpose (starting, failing to start, stopped); every other client fails when it
     * cannot get it.
     */
    public static Api withoutContract(String base) {
        return new Api(base, false, false);
    }

    public String base() {
        return base;
    }

    public Response get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    public Response delete(String path) {
        return send(HttpRequest.newBuilder(uri(path)).DELETE());
    }

    public Response put(String path, String json) {
        return send(HttpRequest.newBuilder(uri(path))
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    public Response post(String path, String json) {
        return send(HttpRequest.newBuilder(uri(path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    public Response send(HttpRequest.Builder request) {
        try {
            HttpRequest built = request.timeout(Duration.ofSeconds(30)).build();
            HttpResponse<String> response = CLIENT.send(built, HttpResponse.BodyHandlers.ofString());
            check(built, response);
            return new Response(response);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void check(HttpRequest request, HttpResponse<String> response) {
        if (!checkContract) {
            return;
        }
        ContractValidator validator = ContractValidator.forServer(base);
        Map<String, java.util.List<String>> headers = new java.util.LinkedHashMap<>(request.headers().map());
        validator.assertKept(new ContractValidator.Exchange(request.method(), request.uri().getRawPath(),
                request.uri().getRawQuery(), headers, body(request), response.statusCode(), response.headers().map(),
                response.body()), checkRequests);
    }

    /**
     * The bytes a request's body publisher gives (the publishers tests use give them
     * again on each subscription).
     */
    private static byte[] body(HttpRequest request) {
        if (request.bodyPublisher().isEmpty() || request.bodyPublisher().get().contentLength() == 0) {
            return null;
        }
        var collected = new java.io.ByteArrayOutputStream();
        var done = new java.util.concurrent.CompletableFuture<byte[]>();
        request.bodyPublisher().get().subscribe(new java.util.concurrent.Flow.Subscriber<java.nio.ByteBuffer>() {
            @Override
            public void onSubscribe(java.util.concurrent.Flow.Subscription subscription) {
                subscription.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(java.nio.ByteBuffer item) {
                byte[] bytes = new byte[item.remaining()];
                item.get(bytes);
                collected.writeBytes(bytes);
            }

            @Override
            public void onError(Throwable throwable) {
                done.complete(null);
            }

            @Override
            public void onComplete() {
                done.complete(collected.toByteArray());
            }
        });
        try {
            return done.get(10, java.util.concurrent.TimeUnit.SECONDS);
        }
        catch (Exception e) {
            return null;
        }
    }

    public URI uri(String path) {
        return URI.create(base + path);
    }

    /**
     * {@code POST /api/sessions/{id}/messages}, with an Idempotency-Key when {@code key}
     * is not null.
     */
    public Response sendMessage(java.util.UUID session, String text, String key) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/api/sessions/" + session + "/messages"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json(Map.of("text", text, "author", "ada"))));
        if (key != null) {
            request.header("Idempotency-Key", key);
        }
        return send(request);
    }

    /** {@code POST /api/sessions/{id}/interrupt}. */
    public Response interrupt(java.util.UUID session) {
        return send(HttpRequest.newBuilder(uri("/api/sessions/" + session + "/interrupt"))
            .POST(HttpRequest.BodyPublishers.noBody()));
    }

    /**
     * Creates a project with a fresh key, so tests sharing a database never see each
     * other's data.
     */
    public String newProject(String prefix) {
        String key = prefix + "-" + Long.toString(System.nanoTime(), 36);
        Response created = checkingRequests().put("/api/projects/" + key,
                "{\"name\":\"" + prefix + "\",\"repoUrl\":null}");
        if (created.status() != 201) {
            throw new IllegalStateException("Cannot create project " + key + ": " + created);
        }
        return key;
    }

    /** Creates a session without a title in the project and returns its id. */
    public java.util.UUID newSession(String project) {
        Response created = checkingRequests().post("/api/projects/" + project + "/sessions", "{}");
        if (created.status() != 201) {
            throw new IllegalStateException("Cannot create a session in " + project + ": " + created);
        }
        return java.util.UUID.fromString(created.json().get("id").asString());
    }

    public static String json(Map<String, ?> body) {
        return JSON.writeValueAsString(body);
    }

    /** A response with its JSON body parsed (when it has one). */
    public record Response(HttpResponse<String> raw) {

        public int status() {
            return raw.statusCode();
        }

        public String text() {
            return raw.body();
        }

        public JsonNode json() {
            return JSON.readTree(raw.body());
        }

        public Optional<String> header(String name) {
            return raw.headers().firstValue(name);
        }

        public String contentType() {
            return header("Content-Type").orElse("");
        }

        @Override
        public String toString() {
            return status() + " " + raw.body();
        }
    }

}
