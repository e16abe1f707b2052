package dev.collab.api;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OpenAPI document at {@code /v3/api-docs} covers the whole contract: every
 * controller mapping (so a new endpoint without docs fails the build), the problem
 * responses, the SSE stream, and the Actuator endpoints of docs/api.md.
 */
@IntegrationTest
class OpenApiDocumentTest {

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    RequestMappingHandlerMapping mappings;

    @Autowired
    Api api;

    JsonNode document;

    @BeforeEach
    void setUp() throws Exception {
        Api.Response response = api.get("/v3/api-docs");
        assertThat(response.status()).as(response.toString()).isEqualTo(200);
        assertThat(response.contentType()).startsWith("application/json");
        document = response.json();
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target", "openapi.json"), document.toPrettyString());
    }

    @Test
    void everyControllerMappingIsDocumented() {
        List<String> missing = new ArrayList<>();
        int checked = 0;
        for (Map.Entry<RequestMappingInfo, HandlerMethod> entry : mappings.getHandlerMethods().entrySet()) {
            String owner = entry.getValue().getBeanType().getName();
            // The framework's own (springdoc's document, the error controller) and the
            // test-only endpoints.
            if (!owner.startsWith("dev.collab.") || owner.startsWith("dev.collab.web.")) {
                continue;
            }
            Set<RequestMethod> methods = entry.getKey().getMethodsCondition().getMethods();
            for (String path : entry.getKey().getPatternValues()) {
                for (RequestMethod method : methods.isEmpty() ? Set.of(RequestMethod.values()) : methods) {
                    checked++;
                    JsonNode operation = document.path("paths").path(path).path(method.name().toLowerCase(Locale.ROOT));
                    if (operation.isMissingNode()) {
                        missing.add(method + " " + path + " (" + entry.getValue() + ")");
                    }
                }
            }
        }
        assertThat(checked).as("controller mappings found").isGreaterThanOrEqualTo(9);
        assertThat(missing).as("controller mappings missing from /v3/api-docs").isEmpty();
    }

    @Test
    void documentsTheActuatorEndpointsOfTheContract() {
        for (String path : List.of("/actuator/health", "/actuator/health/liveness", "/actuator/health/readiness",
                "/actuator/info", "/actuator/prometheus", "/actuator/sweeper")) {
            assertThat(document.path("paths").path(path).path("get").isObject()).as(path).isTrue();
        }
        assertThat(document.path("paths").path("/actuator/sweeper").path("post").path("responses").has("202")).isTrue();
        assertThat(document.path("paths").has("/test/boom")).as("test-only endpoints stay out").isFalse();
    }

    @Test
    void everyOperationDocumentsItsProblemResponses() {
        Set<String> without = new TreeSet<>();
        document.path("paths").properties().forEach(path -> path.getValue().properties().forEach(operation -> {
            JsonNode responses = operation.getValue().path("responses");
            for (String status : List.of("400", "405", "406", "408", "417", "426", "500", "503")) {
                if (responses.path(status)
                    .path("content")
                    .path("application/problem+json")
                    .path("schema")
                    .path("$ref")
                    .asString("")
                    .isEmpty()) {
                    without.add(operation.getKey() + " " + path.getKey() + " " + status);
                }
            }
            if (responses.has("204") && responses.path("204").has("content")) {
                without.add(operation.getKey() + " " + path.getKey() + " 204 has a body");
            }
            responses.properties().forEach(response -> {
                if (!response.getValue().path("headers").has("X-Request-Id")) {
                    without.add(operation.getKey() + " " + path.getKey() + " " + response.getKey() + " X-Request-Id");
                }
            });
        }));
        assertThat(without).isEmpty();
        JsonNode problem = document.path("components").path("schemas").path("Problem");
        assertThat(problem.path("required").valueStream().map(JsonNode::asString).toList()).contains("type", "title",
                "status", "detail", "code", "requestId");
        assertThat(problem.path("properties").has("errors")).isTrue();
    }

    @Test
    void documentsTheContractsRulesAndSpecialAnswers() {
        JsonNode paths = document.path("paths");
        JsonNode put = paths.path("/api/projects/{key}").path("put");
        assertThat(parameter(put, "key").path("schema").path("pattern").asString())
            .isEqualTo("^[a-z0-9][a-z0-9._-]{0,63}$");
        assertThat(put.path("responses").path("201").path("headers").has("Location")).isTrue();
        assertThat(put.path("responses").path("409").isObject()).isTrue();

        JsonNode list = paths.path("/api/projects/{key}/sessions").path("get");
        assertThat(parameter(list, "limit").path("schema").path("maximum").asInt()).isEqualTo(200);
        assertThat(parameter(list, "limit").path("schema").path("minimum").asInt()).isEqualTo(1);
        assertThat(paths.path("/api/projects/{key}/sessions")
            .path("post")
            .path("responses")
            .path("201")
            .path("headers")
            .has("Location")).isTrue();

        JsonNode history = paths.path("/api/sessions/{id}/events").path("get");
        assertThat(parameter(history, "limit").path("schema").path("maximum").asInt()).isEqualTo(1000);
        assertThat(parameter(history, "id").path("schema").path("format").asString()).isEqualTo("uuid");

        JsonNode stream = paths.path("/api/sessions/{id}/events/stream").path("get");
        assertThat(stream.path("responses").path("200").path("content").has("text/event-stream")).isTrue();
        assertThat(stream.path("responses").has("204")).isTrue();
        assertThat(parameter(stream, "Last-Event-ID").path("in").asString()).isEqualTo("header");

        JsonNode send = paths.path("/api/sessions/{id}/messages").path("post");
        assertThat(parameter(send, "Idempotency-Key").path("in").asString()).isEqualTo("header");
        assertThat(send.path("responses").has("202")).isTrue();
        assertThat(send.path("responses").has("409")).isTrue();
        assertThat(send.path("responses").has("422")).isTrue();
        assertThat(send.path("requestBody").path("required").asBoolean()).isTrue();

        assertThat(paths.path("/api/sessions/{id}").path("delete").path("responses").has("204")).isTrue();
        assertThat(paths.path("/api/sessions/{id}/interrupt").path("post").path("responses").has("204")).isTrue();
    }

    private static JsonNode parameter(JsonNode operation, String name) {
        for (JsonNode parameter : operation.path("parameters")) {
            if (parameter.path("name").asString().equals(name)) {
                return parameter;
            }
        }
        throw new AssertionError("no parameter " + name + " in " + operation);
    }

}
