package dev.collab.web;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.RawHttp;
import dev.collab.support.SseClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 11, "Bad input that gets a 5xx, an empty body or an ERROR line": one test per
 * numbered case, each over real HTTP (and a plain socket for what {@code HttpClient}
 * refuses to send). Every answer must be a 4xx problem+json with {@code code} and
 * {@code requestId}, and nothing may be logged at ERROR.
 */
@IntegrationTest
@ExtendWith(OutputCaptureExtension.class)
// A short head deadline, so the slow-client case closes in seconds (the default is 10 s).
@TestPropertySource(properties = "collab.http.request-head-timeout=2s")
class HostileInputTest {

    @LocalServerPort
    int port;

    @Autowired
    Api api;

    // ---- 1. bad percent-encoding in a query string

    @Test
    void badPercentEncodingInAQueryIsMalformedRequest(CapturedOutput output) throws IOException {
        String project = api.newProject("hostile");
        UUID session = api.newSession(project);
        List<String> paths = List.of("/api/projects/" + project + "/sessions", "/api/sessions/" + session + "/events",
                "/api/sessions/" + session + "/events/stream", "/actuator/health", "/actuator/info", "/actuator");
        List<String> queries = List.of("cursor=%%%garbage", "limit=%", "%zz=1", "state=%FF", "limit=%C0%80",
                "after=%E0%80", "x=%ED%A0%80");
        for (String path : paths) {
            for (String query : queries) {
                RawHttp.Response response = raw(
                        "GET " + path + "?" + query + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                assertRawProblem(response, 400, "malformed-request");
            }
        }
        ProblemAssertions.assertNoErrorLogged(output);
    }

    // ---- 2. U+0000 in client strings

    @Test
    void nulInAClientStringIsValidationFailedNamingTheField(CapturedOutput output) throws IOException {
        String project = api.newProject("hostile");
        String key = "nul-" + System.nanoTime();
        assertField(api.put("/api/projects/" + key, "{\"name\":\"a\\u0000b\"}"), "name");
        assertField(api.put("/api/projects/" + key, "{\"name\":\"ok\",\"repoUrl\":\"https://x.example/a\\u0000.git\"}"),
                "repoUrl");
        // The "modified UTF-8" NUL is an overlong sequence: the body cannot be decoded at
        // all.
        assertProblem(put("/api/projects/" + key, bytes("{\"name\":\"a", 0xC0, 0x80, "b\"}")), 400,
                "malformed-request");
        assertThat(api.get("/api/projects/" + key).status()).as("nothing stored").isEqualTo(404);

        assertField(api.post("/api/projects/" + project + "/sessions", "{\"title\":\"a\\u0000\"}"), "title");
        UUID session = api.newSession(project);
        assertField(api.post("/api/sessions/" + session + "/messages", "{\"text\":\"a\\u0000\",\"author\":\"ada\"}"),
                "text");
        // The author is ignored, but the body's every string is still checked.
        assertField(api.post("/api/sessions/" + session + "/messages", "{\"text\":\"hi\",\"author\":\"\\u0000\"}"),
                "author");
        assertThat(head(session)).as("nothing appended").isEqualTo(1);

        // An Idempotency-Key with a NUL cannot even be sent by HttpClient: over a socket
        // (the web
        // server refuses the header line itself).
        String body = "{\"text\":\"hi\",\"author\":\"ada\"}";
        RawHttp.Response raw = raw(
                ("POST /api/sessions/" + session + "/messages HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                        + "Content-Type: application/json\r\nIdempotency-Key: a\u0000b\r\nContent-Length: "
                        + body.length() + "\r\n\r\n" + body));
        assertRawProblem(raw, 400, "malformed-request");
        assertThat(head(session)).isEqualTo(1);
        ProblemAssertions.assertNoErrorLogged(output);
    }

    // ---- 3. wrong JSON types

    @Test
    void wrongJsonTypesAreNotCoerced(CapturedOutput output) {
        String project = api.newProject("hostile");
        UUID session = api.newSession(project);
        assertProblem(api.post("/api/sessions/" + session + "/messages", "{\"text\":42,\"author\":\"ada\"}"), 400,
                "malformed-request");
        // The author is ignored whatever its type (ProjectRolesTest): the text's type
        // still counts.
        assertProblem(api.post("/api/sessions/" + session + "/messages", "{\"text\":true,\"author\":5}"), 400,
                "malformed-request");
        assertProblem(api.post("/api/sessions/" + session + "/messages", "{\"text\":1.5,\"author\":\"ada\"}"), 400,
                "malformed-request");
        assertThat(head(session)).as("nothing appended, nothing run").isEqualTo(1);

        String key = "types-" + System.nanoTime();
        assertProblem(api.put("/api/projects/" + key, "{\"name\":true}"), 400, "malformed-request");
        assertProblem(api.put("/api/projects/" + key, "{\"name\":\"ok\",\"repoUrl\":false}"), 400, "malformed-request");
        assertThat(api.get("/api/projects/" + key).status()).isEqualTo(404);
        assertProblem(api.post("/api/projects/" + project + "/sessions", "{\"title\":1}"), 400, "malformed-request");
        assertProblem(api.post("/api/projects/" + project + "/sessions", "{\"title\":false}"), 400,
                "malformed-request");
        ProblemAssertions.assertNoErrorLogged(output);
    }

    @Test
    void stringsAreNeverReadAsBooleansEvenBlankOrEmpty(CapturedOutput output) {
        // Found by ContractFuzzIT: "admin":" " was read as false (Jackson's empty-string
        // coercion) and the user was created.
        for (String admin : new String[] { "\"   \"", "\"\"", "\"true\"", "\"false\"", "1", "0" }) {
            String login = "coerce-" + System.nanoTime();
            assertProblem(
                    api.post("/api/users", "{\"login\":\"" + login
                            + "\",\"displayName\":\"C\",\"password\":\"a-long-password-1\",\"admin\":" + admin + "}"),
                    400, "malformed-request");
            assertThat(api.get("/api/users").text()).as(admin).doesNotContain(login);
        }
        ProblemAssertions.assertNoErrorLogged(output);
    }

    // ---- 4. lone surrogates and invalid UTF-8

    @Test
    void loneSurrogatesAndInvalidUtf8AreRejectedNotStoredAsQuestionMarks(CapturedOutput output) {
        String key = "surrogate-" + System.nanoTime();
        assertField(api.put("/api/projects/" + key, "{\"name\":\"a\\ud800b\"}"), "name");
        assertField(api.put("/api/projects/" + key, "{\"name\":\"a\\udc00\"}"), "name");
        // The same lone surrogate as raw (CESU-style) bytes: not UTF-8, so the body
        // cannot be decoded.
        assertProblem(put("/api/projects/" + key, bytes("{\"name\":\"a", 0xED, 0xA0, 0x80, "b\"}")), 400,
                "malformed-request");
        assertProblem(put("/api/projects/" + key, bytes("{\"name\":\"a", 0xFF, "b\"}")), 400, "malformed-request");
        assertThat(api.get("/api/projects/" + key).status()).isEqualTo(404);

        String project = api.newProject("hostile");
        UUID session = api.newSession(project);
        String idempotencyKey = UUID.randomUUID().toString();
        assertField(sendRaw(session, "{\"text\":\"a\\ud800b\",\"author\":\"ada\"}", idempotencyKey), "text");
        Api.Response plain = sendRaw(session, "{\"text\":\"a?b\",\"author\":\"ada\"}", idempotencyKey);
        assertThat(plain.status()).as(plain.toString()).isEqualTo(202);
        assertThat(plain.header("Idempotent-Replayed")).as("a new send, not a replay").isEmpty();

        // A valid pair is fine.
        assertThat(api.put("/api/projects/" + key, "{\"name\":\"a\\ud83d\\ude00b\"}").json().get("name").asString())
            .isEqualTo("a\uD83D\uDE00b");
        ProblemAssertions.assertNoErrorLogged(output);
    }

    // ---- 5. framing errors Jetty rejects before Spring

    @Test
    void framingErrorsAreProblemsWithoutErrorLines(CapturedOutput output) throws IOException {
        String project = api.newProject("hostile");
        String target = "/api/projects/" + project + "/sessions";
        String start = "POST " + target + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n";
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("negative length", start + "Content-Length: -5\r\n\r\n{}");
        cases.put("length abc", start + "Content-Length: abc\r\n\r\n{}");
        cases.put("length overflow", start + "Content-Length: 99999999999999999999999\r\n\r\n{}");
        cases.put("two lengths", start + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}");
        cases.put("length and chunked",
                start + "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
        cases.put("TE identity", start + "Transfer-Encoding: identity\r\n\r\n{}");
        cases.put("bad chunk", start + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
        cases.put("PUT with a bad length",
                "PUT /api/projects/x HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n");
        cases.put("HTTP/0.9", "GET /api/projects\r\n");
        cases.put("HTTP/2.5", "GET /api/projects HTTP/2.5\r\nHost: localhost\r\n\r\n");
        cases.put("no Host", "GET /api/projects HTTP/1.1\r\nConnection: close\r\n\r\n");
        cases.put("invalid Host", "GET /actuator HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n");
        cases.put("OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            RawHttp.Response response = raw(c.getValue());
            assertThat(response.status()).as(c.getKey() + ": " + response).isBetween(400, 499);
            assertRawProblem(response, response.status(), response.json().get("code").asString());
        }
        // Expect with something other than 100-continue: 417, still a problem.
        RawHttp.Response expect = raw(start + "Expect: x\r\nContent-Length: 2\r\n\r\n{}");
        assertRawProblem(expect, 417, "malformed-request");
        // Actuator answers an unknown health component with an empty 404 of its own.
        assertRawProblem(raw("GET /actuator/health/nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"), 404,
                "not-found");
        assertProblem(api.get("/actuator/health/nope/deeper"), 404, "not-found");
        ProblemAssertions.assertNoErrorLogged(output);
    }

    // ---- 6. a deadline for the request head

    @Test
    void aClientThatStallsInItsHeadIsClosedQuietly(CapturedOutput output) throws IOException {
        // Closed by the server: an end of stream (possibly after a 408), never an answer
        // to the request.
        String answer = RawHttp.stallInHead(port, "GET /api/projects HTTP/1.1\r\nHost: localhost\r\n");
        assertThat(answer).doesNotStartWith("HTTP/1.1 200").doesNotContain("500");
        // The same on a kept-alive connection, in the head of its second request.
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(60_000);
            socket.getOutputStream()
                .write(RawHttp.authorized(port, "GET /api/projects HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            RawHttp.Response first = RawHttp.read(socket.getInputStream());
            assertThat(first.status()).isEqualTo(200);
            socket.getOutputStream()
                .write("GET /api/projects HTTP/1.1\r\nHost: loc".getBytes(StandardCharsets.US_ASCII));
            assertThat(RawHttp.readToEnd(socket.getInputStream())).doesNotContain("500");
        }
        ProblemAssertions.assertNoErrorLogged(output);
        assertThat(output.getAll()).doesNotContain("/badRequest");
        assertThat(output.getAll()
            .lines()
            .filter(line -> line.contains(AccessLog.LOGGER) && line.matches(".* 500 \\d+ ms.*")))
            .as("no 500 access line")
            .isEmpty();
    }

    @Test
    void aStreamOutlivesTheHeadDeadline() throws IOException {
        // Its head was complete long ago: a long-lived response is not a slow head.
        UUID session = api.newSession(api.newProject("hostile"));
        try (SseClient stream = SseClient.connect(api.uri("/api/sessions/" + session + "/events/stream"), null)) {
            assertThat(stream.status()).isEqualTo(200);
            long started = System.nanoTime();
            // Heartbeats (every 500 ms in tests) keep coming for well over twice the 2 s
            // deadline.
            await().atMost(Duration.ofSeconds(60))
                .until(() -> stream.ended()
                        || Duration.ofNanos(System.nanoTime() - started).compareTo(Duration.ofSeconds(5)) > 0
                                && stream.comments().size() >= 8);
            assertThat(stream.ended()).as("still open").isFalse();
        }
        // The same over a plain socket, as SlowClientTest's clients connect.
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream()
                .write(RawHttp
                    .authorized(port,
                            "GET /api/sessions/" + session + "/events/stream HTTP/1.1\r\nHost: localhost\r\n"
                                    + "Accept: text/event-stream\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            long started = System.nanoTime();
            int pings = 0;
            String line = "";
            while (Duration.ofNanos(System.nanoTime() - started).compareTo(Duration.ofSeconds(5)) < 0 || pings < 8) {
                int b = in.read();
                assertThat(b).as("closed after %d pings", pings).isNotEqualTo(-1);
                line = b == '\n' ? "" : line + (char) b;
                if (line.equals(": ping")) {
                    pings++;
                }
            }
        }
    }

    @Test
    void aClientTricklingItsHeadIsClosedAtTheDeadline(CapturedOutput output) throws Exception {
        long started = System.nanoTime();
        // It would take 150 s to finish the head; the head deadline is 2 s here.
        int sent = RawHttp.trickleHead(port, "GET /api/projects HTTP/1.1\r\nHost: localhost\r\n");
        assertThat(sent).isLessThan(300);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
        ProblemAssertions.assertNoErrorLogged(output);
    }

    // ---- 7. TRACE and OPTIONS

    @Test
    void traceIsMethodNotAllowedAndOptionsNeverAdvertisesIt() throws IOException {
        Api.Response trace = api.send(HttpRequest.newBuilder(api.uri("/api/projects"))
            .header("X-Secret", "s3cret")
            .method("TRACE", HttpRequest.BodyPublishers.noBody()));
        assertProblem(trace, 405, "method-not-allowed");
        assertThat(trace.text()).doesNotContain("s3cret");
        assertThat(trace.header("Allow").orElseThrow()).doesNotContain("TRACE").contains("GET");
        // Like any other method: 405 where the path exists, 404 where it does not; never
        // an echo.
        Map<String, Integer> traces = Map.of("/actuator/health", 405, "/nope", 404, "/error", 404);
        for (Map.Entry<String, Integer> t : traces.entrySet()) {
            RawHttp.Response raw = raw("TRACE " + t.getKey()
                    + " HTTP/1.1\r\nHost: localhost\r\nX-Secret: s3cret\r\nConnection: close\r\n\r\n");
            assertRawProblem(raw, t.getValue(), t.getValue() == 405 ? "method-not-allowed" : "not-found");
            assertThat(raw.body()).doesNotContain("s3cret");
        }

        UUID session = api.newSession(api.newProject("hostile"));
        for (String path : List.of("/api/projects", "/api/sessions/" + session,
                "/api/sessions/" + session + "/events/stream", "/actuator/health")) {
            Api.Response options = api
                .send(HttpRequest.newBuilder(api.uri(path)).method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
            assertThat(options.status()).as(path).isEqualTo(200);
            assertThat(options.header("Allow").orElseThrow()).as(path).doesNotContain("TRACE", "PATCH");
        }
        // The error page is no resource of its own, whatever the method.
        assertProblem(api
            .send(HttpRequest.newBuilder(api.uri("/error")).method("OPTIONS", HttpRequest.BodyPublishers.noBody())),
                404, "not-found");
    }

    // ---- 8. HEAD on the stream

    @Test
    void headOnTheStreamOpensNoStream() {
        UUID session = api.newSession(api.newProject("hostile"));
        long before = subscribers();
        for (int i = 0; i < 50; i++) {
            Api.Response head = api.send(HttpRequest.newBuilder(api.uri("/api/sessions/" + session + "/events/stream"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()));
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.contentType()).startsWith("text/event-stream");
        }
        Api.Response unknown = api
            .send(HttpRequest.newBuilder(api.uri("/api/sessions/" + UUID.randomUUID() + "/events/stream"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()));
        assertThat(unknown.status()).isEqualTo(404);
        await().atMost(Duration.ofSeconds(20)).until(() -> subscribers() <= before);
    }

    // ---- 9. charsets other than UTF-8

    @Test
    void aCharsetOtherThanUtf8IsRejected(CapturedOutput output) {
        String key = "charset-" + System.nanoTime();
        for (String contentType : List.of("application/json; charset=ISO-8859-1",
                "application/json;charset=windows-1252", "application/json; charset=UTF-16",
                "application/json; charset=nonsense")) {
            Api.Response response = api.send(HttpRequest.newBuilder(api.uri("/api/projects/" + key))
                .header("Content-Type", contentType)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes("{\"name\":\"caf", 0xE9, "\"}"))));
            assertProblem(response, 400, "malformed-request");
        }
        assertThat(api.get("/api/projects/" + key).status()).isEqualTo(404);
        for (String contentType : List.of("application/json; charset=utf-8", "application/json;charset=UTF-8",
                "application/json; charset=UTF8", "application/json; charset=\"utf-8\"")) {
            Api.Response response = api.send(HttpRequest.newBuilder(api.uri("/api/projects/" + key))
                .header("Content-Type", contentType)
                .PUT(HttpRequest.BodyPublishers.ofString("{\"name\":\"café\"}")));
            assertThat(response.status()).as(contentType + ": " + response).isIn(200, 201);
            assertThat(response.json().get("name").asString()).isEqualTo("café");
        }
        ProblemAssertions.assertNoErrorLogged(output);
    }

    // ---- 10. lengths in code points

    @Test
    void lengthsCountCharactersNotUtf16Units() {
        String project = api.newProject("hostile");
        String emoji = "\uD83D\uDE00";
        Api.Response fits = api.post("/api/projects/" + project + "/sessions",
                Api.json(Map.of("title", emoji.repeat(200))));
        assertThat(fits.status()).as(fits.toString()).isEqualTo(201);
        assertThat(fits.json().get("title").asString()).isEqualTo(emoji.repeat(200));
        assertField(api.post("/api/projects/" + project + "/sessions", Api.json(Map.of("title", emoji.repeat(201)))),
                "title");
        assertThat(api.put("/api/projects/" + project, Api.json(Map.of("name", emoji.repeat(200)))).status())
            .isEqualTo(200);
        assertField(api.put("/api/projects/" + project, Api.json(Map.of("name", emoji.repeat(201)))), "name");
        UUID session = api.newSession(project);
        // The author has no limit any more: it is ignored (the caller is the author).
        Api.Response sent = api.post("/api/sessions/" + session + "/messages",
                Api.json(Map.of("text", "hi", "author", emoji.repeat(101))));
        assertThat(sent.status()).as(sent.toString()).isEqualTo(202);
    }

    // ---- 11. the smaller ones

    @Test
    void anIdThatIsNotACanonicalUuidIsValidationFailedEverywhere() {
        for (String id : List.of("1-1-1-1-1", "123", "0000000g-0000-0000-0000-000000000000",
                "00000000-0000-0000-0000-0000000000001", "%7B00000000-0000-0000-0000-000000000000%7D")) {
            for (String path : List.of("/api/sessions/" + id, "/api/sessions/" + id + "/events",
                    "/api/sessions/" + id + "/events/stream")) {
                assertField(api.get(path), "id");
            }
            assertField(api.delete("/api/sessions/" + id), "id");
            assertField(api.post("/api/sessions/" + id + "/messages", "{\"text\":\"hi\",\"author\":\"ada\"}"), "id");
            assertField(api.send(HttpRequest.newBuilder(api.uri("/api/sessions/" + id + "/interrupt"))
                .POST(HttpRequest.BodyPublishers.noBody())), "id");
        }
        // Canonical ids in either case are fine.
        UUID session = api.newSession(api.newProject("hostile"));
        assertThat(api.get("/api/sessions/" + session.toString().toUpperCase(Locale.ROOT)).status()).isEqualTo(200);
    }

    @Test
    void twoIdempotencyKeysAreValidationFailed() {
        UUID session = api.newSession(api.newProject("hostile"));
        Api.Response response = api.send(HttpRequest.newBuilder(api.uri("/api/sessions/" + session + "/messages"))
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", "a")
            .header("Idempotency-Key", "b")
            .POST(HttpRequest.BodyPublishers.ofString("{\"text\":\"hi\",\"author\":\"ada\"}")));
        assertField(response, "Idempotency-Key");
        assertThat(head(session)).as("nothing appended").isEqualTo(1);
    }

    @Test
    void blankMeansUnicodeWhitespaceAndInvisibleCharactersToo() {
        String key = "blank-" + System.nanoTime();
        for (String name : List.of("\u200B", "\u00A0", "\u200B\u00A0", "\uFEFF", "\u2003\u3000", "\u2060", " \t")) {
            assertField(api.put("/api/projects/" + key, Api.json(Map.of("name", name))), "name");
        }
        assertThat(api.get("/api/projects/" + key).status()).isEqualTo(404);
        assertThat(api.put("/api/projects/" + key, Api.json(Map.of("name", "\u200Ba"))).status()).isEqualTo(201);
    }

    @Test
    void numbersInQueriesAreAsciiDigitsOnly() throws IOException {
        String project = api.newProject("hostile");
        UUID session = api.newSession(project);
        for (String limit : List.of("%D9%A5", "+5", "%2B5", "%205", "5%20", "%EF%BC%95", "0x5", "5.0")) {
            assertRawField(raw("GET /api/projects/" + project + "/sessions?limit=" + limit
                    + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"), "limit");
            assertRawField(raw("GET /api/sessions/" + session + "/events?limit=" + limit
                    + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"), "limit");
            assertRawField(raw("GET /api/sessions/" + session + "/events?after=" + limit
                    + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"), "after");
        }
        assertField(api.send(HttpRequest.newBuilder(api.uri("/api/sessions/" + session + "/events/stream"))
            .header("Last-Event-ID", "+1")), "Last-Event-ID");
        // A repeated parameter is not "the first one wins" (Spring's Integer conversion
        // would take it).
        assertRawField(raw("GET /api/projects/" + project + "/sessions?limit=5&limit=6"
                + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"), "limit");
        assertRawField(raw("GET /api/sessions/" + session + "/events?after=1&after=2"
                + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"), "after");
        assertThat(api.get("/api/projects/" + project + "/sessions?limit=5").status()).isEqualTo(200);
        assertThat(api.get("/api/sessions/" + session + "/events?after=0&limit=007").status()).isEqualTo(200);
    }

    @Test
    void actuatorLinksDoNotEchoTheHostHeader() throws IOException {
        RawHttp.Response links = raw("GET /actuator HTTP/1.1\r\nHost: evil.example:666\r\nConnection: close\r\n\r\n");
        assertThat(links.status()).isEqualTo(200);
        assertThat(links.body()).doesNotContain("evil.example").contains("\"href\":\"/actuator/health\"");
        RawHttp.Response forwarded = raw(
                "GET /actuator/ HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-Host: evil.example\r\n"
                        + "Connection: close\r\n\r\n");
        assertThat(forwarded.body()).doesNotContain("evil.example");
    }

    // ---- found by review (after issue 11)

    @Test
    void anAcceptListWithEmptyElementsIsNoServerFault(CapturedOutput output) throws IOException {
        // Actuator splits Accept on commas itself and threw on the empty element (a 500
        // and an ERROR line).
        for (String path : List.of("/actuator/health", "/actuator/health/liveness", "/actuator/health/readiness",
                "/actuator/prometheus", "/actuator/info", "/actuator", "/api/projects")) {
            for (String accept : List.of(",", "application/json,,", "*/*;q=0.5,,", " ,", ", ,*/*")) {
                if (path.equals("/actuator/health/liveness") || path.equals("/actuator/health/readiness")) {
                    // What a probe gets: an answer, not a problem.
                    assertThat(raw("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nAccept: " + accept
                            + "\r\nConnection: close\r\n\r\n")
                        .status()).as(path + " " + accept).isEqualTo(200);
                }
                RawHttp.Response response = raw("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nAccept: " + accept
                        + "\r\nConnection: close\r\n\r\n");
                assertThat(response.status()).as(path + " Accept '" + accept + "': " + response).isLessThan(500);
                if (response.status() >= 400) {
                    // Prometheus has no JSON: application/json,, is read as
                    // application/json.
                    assertRawProblem(response, 406, "not-acceptable");
                }
            }
        }
        // An element that is no media type at all: the client's fault, said as a problem.
        for (String path : List.of("/actuator/health/liveness", "/actuator/prometheus", "/api/projects")) {
            RawHttp.Response bogus = raw(
                    "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nAccept: a/b/c\r\nConnection: close\r\n\r\n");
            assertThat(bogus.status()).as(path + ": " + bogus).isIn(400, 406);
            assertRawProblem(bogus, bogus.status(), bogus.status() == 406 ? "not-acceptable" : "malformed-request");
        }
        ProblemAssertions.assertNoErrorLogged(output);
    }

    @Test
    void overlongAndOutOfRangeUtf8InABodyIsMalformedNotDecoded(CapturedOutput output) {
        // Jackson's UTF-8 reader decoded C1 81 as "A" and E0 80 81 as U+0001: the same
        // text two ways.
        List<byte[]> sequences = List.of(new byte[] { (byte) 0xC1, (byte) 0x81 },
                new byte[] { (byte) 0xE0, (byte) 0x80, (byte) 0x81 },
                new byte[] { (byte) 0xF0, (byte) 0x80, (byte) 0x80, (byte) 0x81 },
                new byte[] { (byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80 },
                new byte[] { (byte) 0xC0, (byte) 0xAF });
        String key = "overlong-" + System.nanoTime();
        String project = api.newProject("hostile");
        UUID session = api.newSession(project);
        for (byte[] sequence : sequences) {
            Api.Response response = put("/api/projects/" + key, bytes("{\"name\":\"a", sequence, "b\"}"));
            assertProblem(response, 400, "malformed-request");
            assertThat(response.json().get("detail").asString()).contains("UTF-8").doesNotContain("surrogate");
            assertProblem(
                    api.send(HttpRequest.newBuilder(api.uri("/api/projects/" + project + "/sessions"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes("{\"title\":\"a", sequence, "\"}")))),
                    400, "malformed-request");
            assertProblem(
                    api.send(HttpRequest.newBuilder(api.uri("/api/sessions/" + session + "/messages"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers
                            .ofByteArray(bytes("{\"text\":\"a", sequence, "\",\"author\":\"ada\"}")))),
                    400, "malformed-request");
        }
        assertThat(api.get("/api/projects/" + key).status()).as("nothing stored").isEqualTo(404);
        assertThat(head(session)).as("nothing appended").isEqualTo(1);
        ProblemAssertions.assertNoErrorLogged(output);
    }

    @Test
    void aContentTypeOnARequestWithoutABodyIsIgnored(CapturedOutput output) throws IOException {
        // Probes and proxies send all sorts; with no body there is nothing to mis-decode.
        for (String contentType : List.of("text/plain; charset=ISO-8859-1", "*/*", "application/json; charset=utf-16",
                "nonsense")) {
            for (String path : List.of("/actuator/health/liveness", "/actuator/health", "/api/projects")) {
                RawHttp.Response response = raw("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                        + contentType + "\r\nConnection: close\r\n\r\n");
                assertThat(response.status()).as(path + " " + contentType + ": " + response).isEqualTo(200);
            }
        }
        // With a body it still counts.
        RawHttp.Response withBody = raw(
                "GET /actuator/health HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain; charset=ISO-8859-1"
                        + "\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
        assertRawProblem(withBody, 400, "malformed-request");
        ProblemAssertions.assertNoErrorLogged(output);
    }

    @Test
    void rawNonAsciiBytesInAQueryAreMalformed(CapturedOutput output) throws IOException {
        String project = api.newProject("hostile");
        // ISO-8859-1 on the wire: \u00ff is the raw byte FF, \u00c3\u00a9 the raw UTF-8
        // of é (not percent-encoded).
        for (String query : List.of("x=\u00ff", "x=\u00c3\u00a9", "limit=5&x=\u00e9")) {
            for (String path : List.of("/api/projects", "/api/projects/" + project + "/sessions", "/actuator/health")) {
                assertRawProblem(
                        raw("GET " + path + "?" + query + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
                        400, "malformed-request");
            }
        }
        assertThat(raw("GET /api/projects?x=%C3%A9 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").status())
            .isEqualTo(200);
        ProblemAssertions.assertNoErrorLogged(output);
    }

    @Test
    void clientsCannotWriteWarnLinesAtWill(CapturedOutput output) throws IOException {
        assertProblem(api.get("/nope"), 404, "not-found");
        assertProblem(api.delete("/api/projects"), 405, "method-not-allowed");
        raw("TRACE /api/projects HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        RawHttp.Response twoHosts = raw(
                "GET /api/projects HTTP/1.1\r\nHost: localhost\r\nHost: other\r\nConnection: close\r\n\r\n");
        assertRawProblem(twoHosts, 400, "malformed-request");
        assertThat(output.getAll()
            .lines()
            .filter(line -> line.matches("^\\S+\\s+WARN .*"))
            .filter(line -> line.contains("PageNotFound") || line.contains("HttpParser"))
            .toList()).as("WARN lines caused by the client").isEmpty();
    }

    // ---- helpers

    private Api.Response put(String path, byte[] body) {
        return api.send(HttpRequest.newBuilder(api.uri(path))
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    private Api.Response sendRaw(UUID session, String json, String idempotencyKey) {
        return api.send(HttpRequest.newBuilder(api.uri("/api/sessions/" + session + "/messages"))
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", idempotencyKey)
            .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    private long head(UUID session) {
        return api.get("/api/sessions/" + session).json().get("headSeq").asLong();
    }

    private long subscribers() {
        return api.get("/actuator/health").json().at("/components/streams/details/subscribers").asLong();
    }

    /** Text and raw bytes (ints) in one byte array. */
    private static byte[] bytes(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object part : parts) {
            if (part instanceof Integer b) {
                out.write(b);
            }
            else if (part instanceof byte[] b) {
                out.writeBytes(b);
            }
            else {
                out.writeBytes(part.toString().getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }

    private static void assertProblem(Api.Response response, int status, String code) {
        ProblemAssertions.assertProblem(response, status, code);
        assertThat(response.text()).doesNotContain("Exception", "\tat ", "dev.collab", "SQL");
    }

    private static void assertField(Api.Response response, String field) {
        assertProblem(response, 400, "validation-failed");
        assertThat(response.json().get("errors").findValuesAsString("field")).as(response.toString()).contains(field);
    }

    private static void assertRawProblem(RawHttp.Response response, int status, String code) {
        ProblemAssertions.assertRawProblem(response, status, code);
        assertThat(response.body()).doesNotContain("Exception", "\tat ", "<html");
    }

    private static void assertRawField(RawHttp.Response response, String field) {
        assertRawProblem(response, 400, "validation-failed");
        assertThat(response.json().get("errors").findValuesAsString("field")).as(response.toString()).contains(field);
    }

    /**
     * An HTTP/1.1 exchange over a plain socket: for requests that HttpClient refuses to
     * send.
     */
    private RawHttp.Response raw(String request) {
        return RawHttp.exchange(port, request);
    }

}
