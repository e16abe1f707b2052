package dev.collab.api;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.util.List;

import dev.collab.support.Api;
import dev.collab.support.ContractValidator;
import dev.collab.support.IntegrationTest;
import dev.collab.support.RawHttp;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Regression tests for what {@link ContractFuzzIT} found beyond issue 11's list, each one
 * a request that got a 500 and an ERROR line before.
 */
@IntegrationTest
class FuzzFindingsTest {

    @LocalServerPort
    int port;

    @Autowired
    Api api;

    /**
     * Spring refuses to hold a wildcard Content-Type ({@code HttpHeaders.setContentType})
     * and threw.
     */
    @Test
    void aWildcardContentTypeIsMalformed() {
        String key = api.newProject("wild");
        for (String contentType : List.of("*/*", "application/*", "*/json")) {
            for (String path : List.of("/api/projects/" + key + "/sessions", "/actuator/sweeper")) {
                Api.Response response = api.send(HttpRequest.newBuilder(api.uri(path))
                    .header("Content-Type", contentType)
                    .POST(HttpRequest.BodyPublishers.ofString("{}")));
                assertThat(response.status()).as(contentType + " " + path + ": " + response).isEqualTo(400);
                assertThat(response.json().get("code").asString()).isEqualTo("malformed-request");
            }
            Api.Response health = api.send(HttpRequest.newBuilder(api.uri("/actuator/health"))
                .header("Content-Type", contentType)
                .method("GET", HttpRequest.BodyPublishers.ofString("{}")));
            assertThat(health.status()).as(contentType + " health: " + health).isEqualTo(400);
        }
    }

    /**
     * The create-session body was read by any converter that takes JSON, so
     * {@code application/merge-patch+json} and the like were accepted there while every
     * other endpoint (and docs/api.md) refuses them.
     */
    @Test
    void creatingASessionTakesOnlyApplicationJson() {
        String key = api.newProject("ctype");
        for (String contentType : List.of("application/merge-patch+json", "application/problem+json",
                "application/vnd.foo+json")) {
            Api.Response response = api.send(HttpRequest.newBuilder(api.uri("/api/projects/" + key + "/sessions"))
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString("{}")));
            assertThat(response.status()).as(contentType + ": " + response).isEqualTo(400);
            assertThat(response.json().get("code").asString()).isEqualTo("malformed-request");
        }
        // Still: no body at all, or a JSON one.
        assertThat(api.checkingRequests()
            .send(HttpRequest.newBuilder(api.uri("/api/projects/" + key + "/sessions"))
                .POST(HttpRequest.BodyPublishers.noBody()))
            .status()).isEqualTo(201);
        assertThat(api.checkingRequests().post("/api/projects/" + key + "/sessions", "{\"title\":\"t\"}").status())
            .isEqualTo(201);
        assertThat(api
            .send(HttpRequest.newBuilder(api.uri("/api/projects/" + key + "/sessions"))
                .header("Content-Type", "application/json; charset=utf-8")
                .POST(HttpRequest.BodyPublishers.ofString("{}")))
            .status()).isEqualTo(201);
    }

    /**
     * A multipart body was parsed for Actuator's write operations, and a broken one
     * threw.
     */
    @Test
    void aMultipartBodyIsMalformed() {
        Api.Response response = api.send(HttpRequest.newBuilder(api.uri("/actuator/sweeper"))
            .header("Content-Type", "multipart/form-data; boundary=x")
            .POST(HttpRequest.BodyPublishers.ofString("{}")));
        assertThat(response.status()).as(response.toString()).isBetween(400, 499);
        assertThat(response.contentType()).startsWith("application/problem+json");
    }

    /**
     * An {@code Accept} naming a charset other than UTF-8 (which {@code application/json}
     * does not even define): the handler ran (a session was created) and then no
     * converter would write the answer, a 500. Found by the fuzzer once it sent such
     * lists.
     */
    @Test
    void aCharsetInAcceptIsIgnored() {
        String key = api.newProject("acs");
        for (String accept : List.of("application/json; charset=utf-16", "application/json;charset=ISO-8859-1",
                "application/json;charset=utf-32", "application/json; charset=nonsense", "*/*; charset=utf-16",
                "application/json,,application/json; charset=utf-16")) {
            Api.Response created = api.send(HttpRequest.newBuilder(api.uri("/api/projects/" + key + "/sessions"))
                .header("Accept", accept)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}")));
            assertThat(created.status()).as(accept + ": " + created).isEqualTo(201);
            assertThat(created.contentType()).startsWith("application/json");
            for (String path : List.of("/api/projects/" + key, "/actuator/sweeper", "/actuator/health")) {
                Api.Response got = api.send(HttpRequest.newBuilder(api.uri(path)).header("Accept", accept));
                assertThat(got.status()).as(accept + " " + path + ": " + got).isEqualTo(200);
            }
        }
    }

    /**
     * springdoc built {@code servers[0].url} from the request's Host header, so any
     * client could set it.
     */
    @Test
    void theDocumentDoesNotEchoTheHostHeader() {
        for (List<String[]> headers : List.of(List.<String[]>of(new String[] { "Host", "evil.example:666" }),
                List.<String[]>of(new String[] { "Host", "localhost" },
                        new String[] { "X-Forwarded-Host", "evil.example" },
                        new String[] { "Forwarded", "host=evil.example;proto=https" }))) {
            List<String[]> all = new java.util.ArrayList<>(headers);
            all.add(new String[] { "Connection", "close" });
            RawHttp.Response response = RawHttp.exchange(port, new RawHttp.Request("GET", "/v3/api-docs", all, null),
                    20_000);
            assertThat(response.status()).as(response.toString()).isEqualTo(200);
            assertThat(response.body()).doesNotContain("evil.example");
            assertThat(Api.JSON.readTree(response.body()).at("/servers/0/url").asString()).isEqualTo("/");
        }
    }

    /**
     * The document listed a 404 for creating a project when PUT never answered it, and
     * refused ?state=idle, which the server takes. Since per-project roles, a PUT does
     * answer 404: a non-member's PUT of an existing project (ProjectRolesTest), so the
     * document lists it again.
     */
    @Test
    void theDocumentSaysWhatTheServerAnswers() {
        var document = api.get("/v3/api-docs").json();
        assertThat(document.at("/paths/~1api~1projects~1{key}/put/responses").has("404")).isTrue();
        assertThat(document.at("/paths/~1api~1projects~1{key}/get/responses").has("404")).isTrue();
        String key = api.newProject("state");
        for (String state : List.of("idle", "IDLE", "Running", "ended")) {
            assertThat(api.checkingRequests().get("/api/projects/" + key + "/sessions?state=" + state).status())
                .as(state)
                .isEqualTo(200);
        }
        assertThat(api.get("/api/projects/" + key + "/sessions?state=%20idle").status()).isEqualTo(400);
    }

    /**
     * The validator hook said nothing when it could not get the document: every check was
     * skipped.
     */
    @Test
    void theValidatorFailsLoudlyWithoutADocument() throws IOException {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        String base = "http://localhost:" + closed;
        assertThatThrownBy(() -> ContractValidator.forServer(base)).isInstanceOf(AssertionError.class)
            .hasMessageContaining("/v3/api-docs");
        assertThat(Api.withoutContract(base).base()).isEqualTo(base);
    }

    /**
     * A later server on a reused port got the earlier server's document: the cache is per
     * server instance.
     */
    @Test
    void theValidatorForgetsAServerThatStopped() {
        String base = "http://localhost:" + port;
        ContractValidator first = ContractValidator.forServer(base);
        assertThat(ContractValidator.forServer(base)).isSameAs(first);
        ContractValidator.forget(base);
        assertThat(ContractValidator.forServer(base)).isNotSameAs(first);
    }

}
