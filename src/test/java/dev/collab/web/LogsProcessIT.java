package dev.collab.web;

import java.io.IOException;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.RawHttp;
import dev.collab.support.ServerProcess;
import dev.collab.support.TempDirectories;
import dev.collab.support.TestDatabase;
import org.junit.jupiter.api.Test;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The logs as an operator reads them from a real server process: JSON (ECS) lines with
 * {@code LOG_FORMAT=json}, the human-readable pattern otherwise, and in both one access
 * line per request whose request id is the {@code X-Request-Id} header and the problem
 * body's {@code requestId}.
 */
class LogsProcessIT {

    private static final String ACCESS = "dev.collab.web.access";

    private static String[] teamMode(String... more) {
        TestDatabase.Server db = TestDatabase.server();
        List<String> args = new ArrayList<>(List.of("--spring.datasource.url=" + TestDatabase.newDatabase(),
                "--spring.datasource.username=" + db.user(), "--spring.datasource.password=" + db.password()));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    @Test
    void jsonLogsAreEcsLinesAndEveryRequestIsLoggedWithItsRequestId() throws Exception {
        Path dataDir = TempDirectories.create("jsonlogs-");
        try (ServerProcess server = ServerProcess
            .start(Map.of("LOG_FORMAT", "json"), dataDir, teamMode("--collab.test.endpoints=true",
                    // A body over the limit that still fits the socket buffers: no reset
                    // races the 413.
                    "--collab.http.max-body-size=1KB"))
            .awaitReady()) {
            Api api = server.api();

            // 404 with an id made by the server; the query string stays out of the logs.
            UUID unknown = UUID.randomUUID();
            Api.Response notFound = api.get("/api/sessions/" + unknown + "?token=hunter2");
            assertThat(notFound.status()).isEqualTo(404);
            String notFoundId = notFound.header("X-Request-Id").orElseThrow();
            assertThat(notFound.json().get("requestId").asString()).isEqualTo(notFoundId);

            // 500 with the caller's id.
            String boomId = "boom-" + System.nanoTime();
            Api.Response boom = withId(api, boomId, "/test/boom");
            assertThat(boom.status()).isEqualTo(500);
            assertThat(boom.header("X-Request-Id")).contains(boomId);
            assertThat(boom.json().get("requestId").asString()).isEqualTo(boomId);

            // 413 from a filter, rendered by the error page in a second dispatch: still
            // one id.
            Api.Response tooLarge = api.post("/api/projects/logs/sessions",
                    "{\"title\":\"" + "x".repeat(4_000) + "\"}");
            assertThat(tooLarge.status()).isEqualTo(413);
            String tooLargeId = tooLarge.header("X-Request-Id").orElseThrow();
            assertThat(tooLarge.json().get("requestId").asString()).isEqualTo(tooLargeId);

            // Rejected by Jetty before the application sees it.
            String rejectedId = "rejected-" + System.nanoTime();
            String rejected = rawGet(server.api(), "/api/projects/a%2Fb", rejectedId);
            assertThat(rejected).startsWith("HTTP/1.1 400")
                .containsIgnoringCase("x-request-id: " + rejectedId)
                .contains("\"requestId\":\"" + rejectedId + "\"");

            // Async requests are logged when they complete, and their errors carry the id
            // too.
            String asyncId = "async-" + System.nanoTime();
            assertThat(withId(api, asyncId, "/test/async?millis=300").status()).isEqualTo(200);
            String asyncFailedId = "async-failed-" + System.nanoTime();
            Api.Response asyncFailed = withId(api, asyncFailedId, "/test/async?millis=50&fail=true");
            assertThat(asyncFailed.status()).isEqualTo(500);
            assertThat(asyncFailed.json().get("requestId").asString()).isEqualTo(asyncFailedId);

            // A stream is logged when it closes (an ENDED session's stream replays and
            // closes).
            String project = api.newProject("logs");
            String session = api.post("/api/projects/" + project + "/sessions", "{\"title\":\"t\"}")
                .json()
                .get("id")
                .asString();
            assertThat(api.delete("/api/sessions/" + session).status()).isEqualTo(204);
            String streamId = "stream-" + System.nanoTime();
            assertThat(withId(api, streamId, "/api/sessions/" + session + "/events/stream").status()).isEqualTo(200);

            List<String> ids = List.of(notFoundId, boomId, tooLargeId, rejectedId, asyncId, asyncFailedId, streamId);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                List<JsonNode> logged = parse(server);
                assertThat(ids).as("request ids with an access line")
                    .allSatisfy(id -> assertThat(accessLine(logged, id)).as(id).isPresent());
            });
            List<JsonNode> lines = parse(server);

            for (JsonNode line : lines) {
                assertThat(line.path("@timestamp").asString()).as(line.toString()).isNotBlank();
                assertThat(line.path("log").path("level").asString()).as(line.toString()).isNotBlank();
                assertThat(line.has("message")).as(line.toString()).isTrue();
                assertThat(line.path("ecs").path("version").asString()).as(line.toString()).isNotBlank();
                assertThat(line.path("service").path("name").asString()).as(line.toString()).isEqualTo("collab-server");
            }

            JsonNode notFoundLine = accessLine(lines, notFoundId).orElseThrow();
            assertThat(notFoundLine.path("log").path("level").asString()).isEqualTo("INFO");
            assertThat(notFoundLine.path("method").asString()).isEqualTo("GET");
            assertThat(notFoundLine.path("path").asString()).isEqualTo("/api/sessions/" + unknown);
            assertThat(notFoundLine.path("status").asInt()).isEqualTo(404);
            assertThat(notFoundLine.path("durationMs").isIntegralNumber()).isTrue();
            assertThat(server.output()).doesNotContain("hunter2");

            assertThat(accessLine(lines, boomId).orElseThrow().path("status").asInt()).isEqualTo(500);
            JsonNode error = errorLine(lines, boomId).orElseThrow();
            assertThat(error.path("error").path("stack_trace").asString()).contains("IllegalStateException")
                .contains("\tat ");

            JsonNode tooLargeLine = accessLine(lines, tooLargeId).orElseThrow();
            assertThat(tooLargeLine.path("status").asInt()).isEqualTo(413);
            assertThat(tooLargeLine.path("method").asString()).isEqualTo("POST");

            JsonNode rejectedLine = accessLine(lines, rejectedId).orElseThrow();
            assertThat(rejectedLine.path("status").asInt()).isEqualTo(400);
            assertThat(rejectedLine.path("path").asString()).isEqualTo("/api/projects/a%2Fb");

            JsonNode asyncLine = accessLine(lines, asyncId).orElseThrow();
            assertThat(asyncLine.path("status").asInt()).isEqualTo(200);
            assertThat(asyncLine.path("durationMs").asLong()).as("logged on completion").isGreaterThanOrEqualTo(300);
            assertThat(accessLine(lines, asyncFailedId).orElseThrow().path("status").asInt()).isEqualTo(500);
            assertThat(errorLine(lines, asyncFailedId)).as("the async dispatch's error carries the id").isPresent();

            JsonNode streamLine = accessLine(lines, streamId).orElseThrow();
            assertThat(streamLine.path("path").asString()).isEqualTo("/api/sessions/" + session + "/events/stream");
            assertThat(streamLine.path("status").asInt()).isEqualTo(200);

            // awaitReady polled the readiness probe: Actuator requests are DEBUG, not in
            // the INFO log.
            assertThat(lines).filteredOn(line -> ACCESS.equals(line.path("log").path("logger").asString()))
                .noneMatch(line -> line.path("path").asString().startsWith("/actuator"));
        }
    }

    @Test
    void withoutLogFormatTheLogIsTextWithTheRequestIdInBrackets() {
        Path dataDir = TempDirectories.create("textlogs-");
        try (ServerProcess server = ServerProcess.start(dataDir, teamMode()).awaitReady()) {
            String id = "text-" + System.nanoTime();
            UUID unknown = UUID.randomUUID();
            Api.Response notFound = withId(server.api(), id, "/api/sessions/" + unknown);
            assertThat(notFound.status()).isEqualTo(404);
            assertThat(notFound.json().get("requestId").asString()).isEqualTo(id);

            server.awaitOutput("GET /api/sessions/" + unknown + " 404");
            assertThat(server.outputLines())
                .filteredOn(line -> line.contains(ACCESS) && line.contains(unknown.toString()))
                .singleElement()
                .asString()
                .contains(" INFO [" + id + "] ");
            assertThat(server.outputLines()).noneMatch(line -> line.startsWith("{"));
        }
    }

    private static Api.Response withId(Api api, String requestId, String path) {
        return api.send(HttpRequest.newBuilder(api.uri(path)).header("X-Request-Id", requestId).GET());
    }

    /**
     * Every complete line of the server's output, each of which must be one JSON object.
     */
    private static List<JsonNode> parse(ServerProcess server) {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : server.outputLines()) {
            try {
                JsonNode node = Api.JSON.readTree(line);
                assertThat(node.isObject()).as("not a JSON object: %s", line).isTrue();
                lines.add(node);
            }
            catch (JacksonException e) {
                throw new AssertionError("not a JSON line: " + line, e);
            }
        }
        return lines;
    }

    private static Optional<JsonNode> accessLine(List<JsonNode> lines, String requestId) {
        return lines.stream()
            .filter(line -> ACCESS.equals(line.path("log").path("logger").asString())
                    && requestId.equals(line.path("requestId").asString()))
            .findFirst();
    }

    private static Optional<JsonNode> errorLine(List<JsonNode> lines, String requestId) {
        return lines.stream()
            .filter(line -> "ERROR".equals(line.path("log").path("level").asString())
                    && requestId.equals(line.path("requestId").asString()))
            .findFirst();
    }

    private static String rawGet(Api api, String target, String requestId) throws IOException {
        int port = api.uri("/").getPort();
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream()
                .write(RawHttp
                    .authorized(port,
                            "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: " + requestId
                                    + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

}
