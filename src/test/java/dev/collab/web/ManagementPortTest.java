package dev.collab.web;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.collab.support.Api;
import dev.collab.support.ContractValidator;
import dev.collab.support.IntegrationTest;
import dev.collab.support.RawHttp;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Actuator on a port of its own ({@code management.server.port}, as {@code deploy/cdk}
 * runs it: the ECS and ALB health checks go there) follows the same request rules as the
 * main port: problem+json with {@code code} and {@code requestId} for every error,
 * request ids, access log lines, relative links, no TRACE echo, quiet client mistakes and
 * the request-head deadline. Over real HTTP, and a plain socket for what
 * {@code HttpClient} refuses to send.
 */
@IntegrationTest
@ExtendWith(OutputCaptureExtension.class)
@TestPropertySource(properties = { "management.server.port=0",
        // A short head deadline, so the slow-client cases end in seconds (the default is
        // 10 s).
        "collab.http.request-head-timeout=2s",
        // Actuator requests are logged at DEBUG.
        "logging.level.dev.collab.web.access=DEBUG" })
class ManagementPortTest {

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    Api management;

    @Autowired
    Api api;

    @BeforeEach
    void setUp() {
        // Checked against the main port's document (assertKeptByTheDocument): this port
        // serves none.
        management = Api.withoutContract("http://localhost:" + managementPort);
    }

    @Test
    void probesAreUpOnTheManagementPortAndActuatorIsGoneFromTheApiPort() throws IOException {
        assertThat(managementPort).isNotEqualTo(port);
        Api.Response liveness = management.get("/actuator/health/liveness");
        assertThat(liveness.status()).isEqualTo(200);
        assertThat(liveness.json().get("status").asString()).isEqualTo("UP");
        assertThat(liveness.header("X-Request-Id")).isPresent();
        Api.Response readiness = management.get("/actuator/health/readiness");
        assertThat(readiness.status()).isEqualTo(200);
        assertThat(readiness.json().at("/components/db/status").asString()).isEqualTo("UP");
        Api.Response info = management.get("/actuator/info");
        assertThat(info.json().at("/build/version").asString()).isNotBlank();
        assertThat(management.get("/actuator/prometheus").text()).contains("jvm_memory_used_bytes");
        Api.Response links = management.get("/actuator");
        assertThat(links.json().at("/_links/health/href").asString()).isEqualTo("/actuator/health");
        for (Api.Response response : List.of(liveness, readiness, info, links, management.get("/actuator/health"))) {
            assertKeptByTheDocument(response);
        }
        // The API port has no Actuator: a 404 problem like any unknown path. (Over a
        // socket: the
        // OpenAPI document the test client checks against lists the Actuator paths.)
        assertRawProblem(
                RawHttp.exchange(port,
                        "GET /actuator/health/liveness HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
                404, "not-found");
    }

    @Test
    void everyAnswerCarriesTheRequestIdAndIsLoggedOnce(CapturedOutput output) {
        Api.Response given = management.send(HttpRequest.newBuilder(management.uri("/actuator/health/liveness"))
            .header("X-Request-Id", "mgmt-liveness-1"));
        assertThat(given.header("X-Request-Id")).hasValue("mgmt-liveness-1");
        Api.Response insane = management
            .send(HttpRequest.newBuilder(management.uri("/actuator/health")).header("X-Request-Id", "bad id"));
        assertThat(insane.header("X-Request-Id")).hasValueSatisfying(id -> assertThat(id).doesNotContain(" "));
        Api.Response unknown = management
            .send(HttpRequest.newBuilder(management.uri("/nope")).header("X-Request-Id", "mgmt-nope-1"));
        assertProblem(unknown, 404, "not-found");
        assertThat(unknown.json().get("requestId").asString()).isEqualTo("mgmt-nope-1");
        // One access line per request, on either port (the main context has no second set
        // of filters).
        api.send(HttpRequest.newBuilder(api.uri("/api/projects")).header("X-Request-Id", "main-projects-1"));
        for (String id : List.of("mgmt-liveness-1", "mgmt-nope-1", "main-projects-1")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> accessLines(output, id).size() == 1);
        }
        assertThat(accessLines(output, "mgmt-liveness-1").getFirst()).contains("GET /actuator/health/liveness 200");
        assertThat(accessLines(output, "mgmt-nope-1").getFirst()).contains("GET /nope 404");
        assertThat(accessLines(output, "main-projects-1")).hasSize(1);
        ProblemAssertions.assertNoErrorLogged(output);
    }

    @Test
    void badPercentEncodingInAQueryIsMalformedRequest(CapturedOutput output) throws IOException {
        for (String path : List.of("/actuator/health", "/actuator/health/liveness", "/actuator/info", "/actuator")) {
            for (String query : List.of("cursor=%%%garbage", "limit=%", "%zz=1", "state=%FF", "limit=%C0%80",
                    "x=%ED%A0%80", "x=%00")) {
                assertRawProblem(
                        raw("GET " + path + "?" + query + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
                        400, "malformed-request");
            }
        }
        ProblemAssertions.assertNoErrorLogged(output);
    }

    @Test
    void unknownHealthComponentsAndPathsAreNotFoundProblems(CapturedOutput output) throws IOException {
        assertRawProblem(raw("GET /actuator/health/nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"), 404,
                "not-found");
        Api.Response nope = management.get("/actuator/health/nope");
        assertProblem(nope, 404, "not-found");
        assertKeptByTheDocument(nope);
        assertProblem(management.get("/actuator/health/nope/deeper"), 404, "not-found");
        for (String path : List.of("/nope", "/actuator/env", "/actuator/heapdump", "/error", "/api/projects")) {
            assertProblem(management.get(path), 404, "not-found");
        }
        ProblemAssertions.assertNoErrorLogged(output);
    }

    @Test
    void traceIsNeverEchoedAndOptionsNeverAdvertisesIt(CapturedOutput output) throws IOException {
        Map<String, Integer> traces = Map.of("/actuator/health", 405, "/actuator/health/liveness", 405, "/nope", 404,
                "/error", 404);
        for (Map.Entry<String, Integer> t : traces.entrySet()) {
            RawHttp.Response trace = raw("TRACE " + t.getKey()
                    + " HTTP/1.1\r\nHost: localhost\r\nX-Secret: s3cret\r\nConnection: close\r\n\r\n");
            assertRawProblem(trace, t.getValue(), t.getValue() == 405 ? "method-not-allowed" : "not-found");
            assertThat(trace.body()).doesNotContain("s3cret");
        }
        Api.Response options = management.send(HttpRequest.newBuilder(management.uri("/actuator/health"))
            .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
        assertThat(options.status()).isEqualTo(200);
        assertThat(options.header("Allow").orElseThrow()).contains("GET").doesNotContain("TRACE", "PATCH");
        ProblemAssertions.assertNoErrorLogged(output);
    }

    @Test
    void framingErrorsAreProblemsWithoutErrorLines(CapturedOutput output) throws IOException {
        String start = "POST /actuator/sweeper HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n";
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("negative length", start + "Content-Length: -5\r\n\r\n{}");
        cases.put("length abc", start + "Content-Length: abc\r\n\r\n{}");
        cases.put("two lengths", start + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}");
        cases.put("length and chunked",
                start + "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
        cases.put("TE identity", start + "Transfer-Encoding: identity\r\n\r\n{}");
        cases.put("HTTP/0.9", "GET /actuator/health/liveness\r\n");
        cases.put("HTTP/2.5", "GET /actuator/health/liveness HTTP/2.5\r\nHost: localhost\r\n\r\n");
        cases.put("no Host", "GET /actuator/health/liveness HTTP/1.1\r\nConnection: close\r\n\r\n");
        cases.put("invalid Host", "GET /actuator HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n");
        cases.put("bad escape in the path",
                "GET /actuator/health/a%zz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        // A body's charset must be UTF-8 (a Content-Type on a request without a body is
        // ignored).
        cases.put("charset", "POST /actuator/sweeper HTTP/1.1\r\nHost: localhost\r\n"
                + "Content-Type: application/json; charset=ISO-8859-1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            RawHttp.Response response = raw(c.getValue());
            assertThat(response.status()).as(c.getKey() + ": " + response).isBetween(400, 499);
            assertRawProblem(response, response.status(), response.json().get("code").asString());
        }
        assertRawProblem(raw(start + "Expect: x\r\nContent-Length: 2\r\n\r\n{}"), 417, "malformed-request");
        // The body limit (1MB by default) holds here too.
        Api.Response tooLarge = management.post("/actuator/sweeper", "{\"x\":\"" + "x".repeat(1_100_000) + "\"}");
        assertProblem(tooLarge, 413, "payload-too-large");
        ProblemAssertions.assertNoErrorLogged(output);
    }

    @Test
    void actuatorLinksDoNotEchoTheHostHeader() throws IOException {
        RawHttp.Response links = raw("GET /actuator HTTP/1.1\r\nHost: evil.example:666\r\nConnection: close\r\n\r\n");
        assertThat(links.status()).isEqualTo(200);
        assertThat(links.body()).doesNotContain("evil.example").contains("\"href\":\"/actuator/health\"");
        assertThat(links.header("x-request-id")).isNotBlank();
    }

    @Test
    void aClientThatStallsOrTricklesItsHeadIsClosedQuietly(CapturedOutput output) throws Exception {
        assertThat(RawHttp.stallInHead(managementPort, "GET /actuator/health/liveness HTTP/1.1\r\nHost: localhost\r\n"))
            .doesNotStartWith("HTTP/1.1 200")
            .doesNotContain("500");
        // One header line every 500 ms: well inside the idle timeout (3 s in tests), so
        // only the
        // head deadline (2 s here) can end it.
        long started = System.nanoTime();
        int sent = RawHttp.trickleHead(managementPort, "GET /actuator/health/liveness HTTP/1.1\r\nHost: localhost\r\n");
        assertThat(sent).isLessThan(300);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
        ProblemAssertions.assertNoErrorLogged(output);
        assertThat(output.getAll()).doesNotContain("/badRequest");
    }

    // ---- helpers

    /**
     * The management port serves no OpenAPI document (the test client checks nothing
     * there): its answers are checked against the main port's, which documents the
     * Actuator endpoints.
     */
    private void assertKeptByTheDocument(Api.Response response) {
        java.net.http.HttpResponse<String> raw = response.raw();
        HttpRequest request = raw.request();
        ContractValidator validator = ContractValidator.forServer(api.base());
        assertThat(validator).as("the main port's document").isNotNull();
        validator.assertKept(new ContractValidator.Exchange(request.method(), request.uri().getRawPath(),
                request.uri().getRawQuery(), request.headers().map(), null, raw.statusCode(), raw.headers().map(),
                raw.body()), false);
    }

    private static List<String> accessLines(CapturedOutput output, String requestId) {
        return output.getAll()
            .lines()
            .filter(line -> line.contains(AccessLog.LOGGER) && line.contains("[" + requestId + "]"))
            .toList();
    }

    private static void assertProblem(Api.Response response, int status, String code) {
        ProblemAssertions.assertProblem(response, status, code);
        JsonNode problem = response.json();
        assertThat(problem.get("title").asString()).isNotBlank();
        assertThat(problem.get("detail").asString()).isNotBlank();
        assertThat(response.text()).doesNotContain("Exception", "\tat ", "dev.collab", "timestamp");
    }

    private static void assertRawProblem(RawHttp.Response response, int status, String code) {
        ProblemAssertions.assertRawProblem(response, status, code);
        assertThat(response.body()).doesNotContain("Exception", "\tat ", "<html", "timestamp");
    }

    private RawHttp.Response raw(String request) {
        return RawHttp.exchange(managementPort, request);
    }

}
