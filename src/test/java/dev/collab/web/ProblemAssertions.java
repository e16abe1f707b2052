package dev.collab.web;

import dev.collab.support.Api;
import dev.collab.support.RawHttp;
import org.springframework.boot.test.system.CapturedOutput;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What HostileInputTest and ManagementPortTest check of every error answer, on either
 * port: the status, problem+json, the code, the status and request id in the body. Each
 * test adds what it also requires of the answer's text.
 */
final class ProblemAssertions {

    private ProblemAssertions() {
    }

    static void assertProblem(Api.Response response, int status, String code) {
        assertThat(response.status()).as(response.toString()).isEqualTo(status);
        assertThat(response.contentType()).as(response.toString()).startsWith("application/problem+json");
        JsonNode problem = response.json();
        assertThat(problem.get("code").asString()).as(response.toString()).isEqualTo(code);
        assertThat(problem.get("status").asInt()).isEqualTo(status);
        assertThat(problem.get("type").asString()).isEqualTo("/problems/" + code);
        assertThat(problem.get("requestId").asString()).isEqualTo(response.header("X-Request-Id").orElseThrow());
    }

    static void assertRawProblem(RawHttp.Response response, int status, String code) {
        assertThat(response.status()).as(response.toString()).isEqualTo(status);
        assertThat(response.header("content-type")).as(response.toString()).startsWith("application/problem+json");
        JsonNode problem = response.json();
        assertThat(problem.get("code").asString()).as(response.toString()).isEqualTo(code);
        assertThat(problem.get("status").asInt()).as(response.toString()).isEqualTo(status);
        assertThat(problem.get("requestId").asString()).as(response.toString())
            .isNotBlank()
            .isEqualTo(response.header("x-request-id"));
    }

    /**
     * No line of the test's output was logged at ERROR (the log pattern puts the level
     * second).
     */
    static void assertNoErrorLogged(CapturedOutput output) {
        assertThat(output.getAll().lines().filter(line -> line.matches("^\\S+\\s+ERROR .*")).toList()).as("ERROR lines")
            .isEmpty();
    }

}
