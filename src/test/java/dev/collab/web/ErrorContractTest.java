package dev.collab.web;

import java.net.http.HttpRequest;
import java.util.List;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every error answer is problem+json with type, title, status, detail, code and
 * requestId.
 */
@IntegrationTest
class ErrorContractTest {

    @LocalServerPort
    int port;

    @Autowired
    Api api;

    private static void assertProblem(Api.Response response, int status, String code) {
        assertThat(response.status()).as(response.toString()).isEqualTo(status);
        assertThat(response.contentType()).startsWith("application/problem+json");
        JsonNode problem = response.json();
        assertThat(problem.get("type").asString()).isEqualTo("/problems/" + code);
        assertThat(problem.get("code").asString()).isEqualTo(code);
        assertThat(problem.get("status").asInt()).isEqualTo(status);
        assertThat(problem.get("title").asString()).isNotBlank();
        assertThat(problem.get("detail").asString()).isNotBlank();
        assertThat(problem.get("requestId").asString()).isEqualTo(response.header("X-Request-Id").orElseThrow());
        assertThat(response.text()).doesNotContain("Exception", "\tat ", "dev.collab", "/tmp/", "select ", "SQL");
    }

    @Test
    void unknownPathsAreNotFound() {
        for (String path : List.of("/nope", "/api", "/api/nothing/here", "/actuator/env", "/actuator/beans",
                "/actuator/heapdump", "/error")) {
            assertProblem(api.get(path), 404, "not-found");
        }
    }

    @Test
    void wrongMethodIsMethodNotAllowedWithAllow() {
        Api.Response response = api.delete("/api/projects");
        assertProblem(response, 405, "method-not-allowed");
        assertThat(response.header("Allow")).hasValueSatisfying(allow -> assertThat(allow).contains("GET"));
        assertProblem(api.post("/api/sessions/" + java.util.UUID.randomUUID(), "{}"), 405, "method-not-allowed");
    }

    @Test
    void malformedJsonAndWrongContentType() {
        String key = api.newProject("errors");
        assertProblem(api.post("/api/projects/" + key + "/sessions", "{\"title\":"), 400, "malformed-request");
        assertProblem(api.post("/api/projects/" + key + "/sessions", "{\"title\":[1]}"), 400, "malformed-request");
        assertProblem(api.send(HttpRequest.newBuilder(api.uri("/api/projects/" + key + "/sessions"))
            .header("Content-Type", "application/xml")
            .POST(HttpRequest.BodyPublishers.ofString("<a/>"))), 400, "malformed-request");
    }

    @Test
    void badUuidIsValidationFailed() {
        assertProblem(api.get("/api/sessions/123"), 400, "validation-failed");
    }

    @Test
    void oversizedBodiesArePayloadTooLarge() {
        String key = api.newProject("big");
        String big = "{\"title\":\"" + "x".repeat(1_100_000) + "\"}";
        Api.Response declared = api.post("/api/projects/" + key + "/sessions", big);
        assertProblem(declared, 413, "payload-too-large");
        assertThat(declared.json().get("instance").asString()).isEqualTo("/api/projects/" + key + "/sessions");

        // Chunked (no Content-Length): cut off while reading.
        byte[] bytes = big.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        HttpRequest.BodyPublisher chunked = HttpRequest.BodyPublishers
            .ofInputStream(() -> new java.io.ByteArrayInputStream(bytes));
        assertProblem(api.send(HttpRequest.newBuilder(api.uri("/api/projects/" + key + "/sessions"))
            .header("Content-Type", "application/json")
            .POST(chunked)), 413, "payload-too-large");
    }

    @Test
    void unexpectedFailureIsInternalErrorWithCorrelationId() {
        Api.Response response = api
            .send(HttpRequest.newBuilder(api.uri("/test/boom")).header("X-Request-Id", "trace-42").GET());
        assertProblem(response, 500, "internal-error");
        assertThat(response.json().get("requestId").asString()).isEqualTo("trace-42");
        assertThat(response.text()).doesNotContain("secret", "/etc");
    }

    /**
     * What a failure PostgreSQL reports answers, the same through Spring's templates and
     * through plain JDBC (the streams' own connections): what Spring's translation calls
     * a resource failure (classes 08, 53, 54, 57, 58) or a transient one (a statement
     * timeout, 57014; a serialization failure, 40001; a deadlock, 40P01) is a 503 the
     * client may retry; anything else (a lock not available, 55P03, among them) is a
     * fault of ours.
     */
    @ParameterizedTest(name = "{0} via {1}: {2}")
    @CsvSource({ "57014, raw, 503", "57014, template, 503", "53300, raw, 503", "53300, template, 503",
            "53100, raw, 503", "54000, raw, 503", "57P01, raw, 503", "08006, raw, 503", "40001, raw, 503",
            "40001, template, 503", "40P01, raw, 503", "40P01, template, 503", "55P03, raw, 500",
            "55P03, template, 500", "42P01, raw, 500", "XX000, raw, 500", "XX000, template, 500" })
    void databaseFailuresAreRetryableAndOthersAreOurs(String state, String via, int status) {
        Api.Response response = api.get("/test/sql-state?state=" + state + "&via=" + via);
        if (status == 503) {
            assertProblem(response, 503, "service-unavailable");
            assertThat(response.header("Retry-After")).contains("5");
        }
        else {
            assertProblem(response, 500, "internal-error");
            assertThat(response.header("Retry-After")).isEmpty();
        }
        assertThat(response.text()).doesNotContain("failing on purpose");
    }

    @Test
    void malformedPathsThatJettyRejectsBeforeTheAppAreProblemsToo() throws Exception {
        for (String target : List.of("/api/projects/a%zz", "/api/projects/a%2Fb")) {
            String raw = rawGet(target);
            assertThat(raw).as(target).startsWith("HTTP/1.1 400");
            assertThat(raw).as(target)
                .containsIgnoringCase("content-type: application/problem+json")
                .contains("\"code\":\"malformed-request\"")
                .doesNotContain("<html", "Tomcat", "Jetty");
            String requestId = raw.lines()
                .filter(line -> line.regionMatches(true, 0, "X-Request-Id:", 0, 13))
                .map(line -> line.substring(13).trim())
                .findFirst()
                .orElseThrow();
            assertThat(raw).as(target).contains("\"requestId\":\"" + requestId + "\"");
        }
    }

    private String rawGet(String target) throws Exception {
        try (var socket = new java.net.Socket("localhost", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream()
                .write(("GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    @Test
    void insaneRequestIdsAreReplaced() {
        Api.Response response = api.send(HttpRequest.newBuilder(api.uri("/api/projects/x-" + System.nanoTime()))
            .header("X-Request-Id", "bad id with spaces")
            .GET());
        assertThat(response.header("X-Request-Id")).hasValueSatisfying(id -> assertThat(id).doesNotContain(" "));
    }

}
