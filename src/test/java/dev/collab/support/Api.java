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

/** A small real-HTTP client for tests: what a browser or curl would send, nothing mocked. */
public final class Api {

    public static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private final String base;

    public Api(int port) {
        this("http://localhost:" + port);
    }

    public Api(String base) {
        this.base = base;
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
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    public Response post(String path, String json) {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    public Response send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> response = CLIENT.send(request.timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return new Response(response);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public URI uri(String path) {
        return URI.create(base + path);
    }

    /** {@code POST /api/sessions/{id}/messages}, with an Idempotency-Key when {@code key} is not null. */
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

    /** Creates a project with a fresh key, so tests sharing a database never see each other's data. */
    public String newProject(String prefix) {
        String key = prefix + "-" + Long.toString(System.nanoTime(), 36);
        Response created = put("/api/projects/" + key, "{\"name\":\"" + prefix + "\",\"repoUrl\":null}");
        if (created.status() != 201) {
            throw new IllegalStateException("Cannot create project " + key + ": " + created);
        }
        return key;
    }

    /** Creates a session without a title in the project and returns its id. */
    public java.util.UUID newSession(String project) {
        Response created = post("/api/projects/" + project + "/sessions", "{}");
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
