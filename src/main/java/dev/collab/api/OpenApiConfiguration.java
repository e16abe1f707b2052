package dev.collab.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

import dev.collab.web.ProblemCode;
import dev.collab.workspace.SweepReport;
import io.swagger.v3.core.converter.AnnotatedType;
import io.swagger.v3.core.converter.ModelConverters;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.headers.Header;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import io.swagger.v3.oas.models.servers.Server;
import org.jspecify.annotations.Nullable;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springdoc.core.customizers.OperationCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;

/**
 * The parts of the OpenAPI document that no single controller says: the {@code Problem}
 * schema, the problem responses every operation can give, the {@code X-Request-Id}
 * header, the JSON schemas of bodies built as maps, and the Actuator endpoints of the
 * contract (documented here rather than by springdoc's actuator scan, which documents
 * {@code /actuator/health/**} as one wildcard path that no client calls and no validator
 * can match).
 */
@Configuration(proxyBeanMethods = false)
class OpenApiConfiguration {

    static final String PROBLEM_JSON = "application/problem+json";
    static final String JSON = "application/json";
    static final String ACTUATOR_JSON = "application/vnd.spring-boot.actuator.v3+json";
    static final String SCHEMAS = "#/components/schemas/";

    /**
     * What any request can be answered with, whatever its operation: these come from the
     * web server, the filters and the problem handler, before or around the controller.
     */
    static final Map<Integer, String> STANDARD_PROBLEMS = orderedMap(400,
            "`malformed-request`: a value that cannot be read (bad percent-encoding, not JSON, a wrong JSON type, "
                    + "a wrong content type or charset); `validation-failed`: a value that breaks its rule (`errors` lists them)",
            401,
            "`unauthenticated`: no credentials or bad ones (an unknown, expired or revoked token, a disabled user, "
                    + "an ended session); `WWW-Authenticate: Bearer`",
            403,
            "`csrf-failed`: a write with the session cookie without a matching `X-XSRF-TOKEN`, or from a foreign "
                    + "`Origin`; `forbidden`: the caller's role does not allow this",
            405, "`method-not-allowed`: the path exists but not with this method (`Allow` lists those it has)", 406,
            "`not-acceptable`: the `Accept` header rules out what this operation answers with", 408,
            "the request head was not complete within `collab.http.request-head-timeout` (or the connection "
                    + "is closed without an answer)",
            413, "`payload-too-large`: the body is larger than `collab.http.max-body-size`", 414,
            "the request target is longer than the web server accepts", 417,
            "`malformed-request`: an `Expect` header other than `100-continue`", 426,
            "`malformed-request`: an HTTP/2 preface or an upgrade this server does not speak", 431,
            "the request headers are larger than the web server accepts", 500,
            "`internal-error`: anything unexpected; the `requestId` is in the log line", 503,
            "`shutting-down` (a write while this instance drains) or `service-unavailable` (the database is not "
                    + "reachable); `Retry-After` says when to retry");

    @Bean
    OpenAPI collabOpenApi() {
        return new OpenAPI()
            // Relative: springdoc would otherwise build the URL from the request's Host
            // header,
            // so any client could make the document point elsewhere.
            .servers(List.of(new Server().url("/")))
            .info(new Info().title("collab-server")
                .version("1")
                .description("The HTTP contract of collab-server (docs/api.md says it in prose). Every 4xx/5xx "
                        + "answer is `application/problem+json` with `code` and `requestId`. Every request may send "
                        + "`X-Request-Id`: 1 to 128 characters from `A-Za-z0-9._:-` are echoed in the `X-Request-Id` "
                        + "response header, anything else is replaced by a generated id (never refused)."))
            // Every /api/** operation needs one of these (the login and setup operations
            // none).
            .addSecurityItem(new io.swagger.v3.oas.models.security.SecurityRequirement().addList("bearer"))
            .addSecurityItem(new io.swagger.v3.oas.models.security.SecurityRequirement().addList("session"))
            .components(new Components()
                .addSecuritySchemes("bearer",
                        new io.swagger.v3.oas.models.security.SecurityScheme()
                            .type(io.swagger.v3.oas.models.security.SecurityScheme.Type.HTTP)
                            .scheme("bearer")
                            .description("A personal access token `collab_pat_…` (POST /api/tokens); no CSRF check"))
                .addSecuritySchemes("session",
                        new io.swagger.v3.oas.models.security.SecurityScheme()
                            .type(io.swagger.v3.oas.models.security.SecurityScheme.Type.APIKEY)
                            .in(io.swagger.v3.oas.models.security.SecurityScheme.In.COOKIE)
                            .name("COLLAB_SESSION")
                            .description("The browser session of POST /api/auth/login; writes also send "
                                    + "`X-XSRF-TOKEN` equal to the `XSRF-TOKEN` cookie"))
                .addSchemas("Problem", problemSchema())
                .addSchemas("FieldProblem",
                        object(Map.of("field",
                                string().description("the body member, path or query parameter, or header"), "message",
                                string()), "field", "message"))
                .addSchemas(
                        "MessageAccepted", object(
                                Map.of("messageId", uuid(), "runId", uuid().description("absent when queued"), "seq",
                                        int64().minimum(java.math.BigDecimal.ONE)
                                            .description("the seq of the `message` event (of `message.queued` when "
                                                    + "queued)"),
                                        "queued", bool().description("true: the session was busy, the message waits"),
                                        "position",
                                        integer().minimum(java.math.BigDecimal.ONE)
                                            .description("when queued: its place in the queue (1: next)")),
                                "messageId", "seq", "queued"))
                .addSchemas("InterruptAccepted", object(Map.of("runId", uuid()), "runId")));
    }

    /**
     * Adds the standard problems, the operation's own ({@link ProblemResponses}),
     * {@code 404} for an operation on a resource named in its path, and the
     * {@code X-Request-Id} header.
     */
    @Bean
    OperationCustomizer problemResponses() {
        return (operation, handlerMethod) -> {
            Map<Integer, String> problems = new TreeMap<>(STANDARD_PROBLEMS);
            // PUT creates the resource it names, so it cannot be missing.
            boolean namesResource = !handlerMethod.hasMethodAnnotation(PutMapping.class)
                    && Arrays.stream(handlerMethod.getMethodParameters())
                        .anyMatch(parameter -> parameter.hasParameterAnnotation(PathVariable.class));
            if (namesResource) {
                problems.put(404, "`not-found`: no such resource");
            }
            ProblemResponses own = handlerMethod.getMethodAnnotation(ProblemResponses.class);
            if (own != null) {
                Arrays.stream(own.value())
                    .collect(Collectors.groupingBy(code -> code.status().value(), TreeMap::new,
                            Collectors.mapping(code -> "`" + code.slug() + "`: " + code.title(),
                                    Collectors.joining("; "))))
                    .forEach(problems::put);
            }
            return document(operation, problems);
        };
    }

    /**
     * The Actuator endpoints that docs/api.md lists, and what springdoc cannot infer: the
     * raw JSON of {@code Event.data}, and that every member of a response body is always
     * present ({@code spring.jackson.default-property-inclusion: always}; null ones are
     * declared nullable).
     */
    @Bean
    OpenApiCustomizer actuatorAndResponseRules() {
        return openApi -> {
            requireEveryResponseMember(openApi);
            optionalBodiesMayBeNull(openApi);
            Schema<?> event = openApi.getComponents().getSchemas() == null ? null
                    : openApi.getComponents().getSchemas().get("Event");
            if (event != null && event.getProperties() != null) {
                // Event.data is stored JSON written raw (@JsonRawValue): springdoc sees a
                // String.
                event.getProperties().put("data", object(Map.of()).description("the type's payload (docs/api.md)"));
            }
            addActuator(openApi);
        };
    }

    /**
     * An optional JSON body ({@code @RequestBody(required = false)}) may also be the JSON
     * {@code null}: Spring MVC reads it as no body.
     */
    private static void optionalBodiesMayBeNull(OpenAPI openApi) {
        if (openApi.getPaths() == null) {
            return;
        }
        openApi.getPaths().values().forEach(item -> item.readOperations().forEach(operation -> {
            var body = operation.getRequestBody();
            if (body == null || Boolean.TRUE.equals(body.getRequired()) || body.getContent() == null) {
                return;
            }
            body.getContent().values().forEach(media -> {
                if (media.getSchema() != null && media.getSchema().get$ref() != null) {
                    Schema<?> either = new Schema<>();
                    either.setAnyOf(List.of(media.getSchema(), typed("null")));
                    media.setSchema(either);
                }
            });
        }));
    }

    /**
     * Schemas only answered with (not request bodies) that list no required members: all
     * are.
     */
    @SuppressWarnings("rawtypes") // swagger-models declares Components.getSchemas() with
                                  // the raw Schema type
    private static void requireEveryResponseMember(OpenAPI openApi) {
        Map<String, Schema> schemas = openApi.getComponents() == null ? null : openApi.getComponents().getSchemas();
        if (schemas == null || openApi.getPaths() == null) {
            return;
        }
        Set<String> requestSchemas = new HashSet<>();
        openApi.getPaths().values().forEach(item -> item.readOperations().forEach(operation -> {
            if (operation.getRequestBody() != null && operation.getRequestBody().getContent() != null) {
                operation.getRequestBody()
                    .getContent()
                    .values()
                    .forEach(media -> collectRefs(media.getSchema(), schemas::get, requestSchemas));
            }
        }));
        schemas.forEach((name, raw) -> {
            Schema<?> schema = raw;
            if (!requestSchemas.contains(name) && schema.getRequired() == null && schema.getProperties() != null) {
                schema.setRequired(new ArrayList<>(schema.getProperties().keySet()));
            }
        });
    }

    private static void collectRefs(@Nullable Schema<?> schema, Function<String, @Nullable Schema<?>> schemas,
            Set<String> names) {
        if (schema == null) {
            return;
        }
        if (schema.get$ref() != null) {
            String name = schema.get$ref().substring(schema.get$ref().lastIndexOf('/') + 1);
            if (names.add(name)) {
                collectRefs(schemas.apply(name), schemas, names);
            }
            return;
        }
        if (schema.getProperties() != null) {
            schema.getProperties().values().forEach(property -> collectRefs(property, schemas, names));
        }
        collectRefs(schema.getItems(), schemas, names);
    }

    private static void addActuator(OpenAPI openApi) {
        Components components = openApi.getComponents();
        components.addSchemas("Health",
                object(Map.of("status", string()._enum(List.of("UP", "DOWN", "OUT_OF_SERVICE", "UNKNOWN")),
                        "components", object(Map.of()), "groups", array(string())), "status"));
        ModelConverters.getInstance(true)
            .readAll(new AnnotatedType(SweepReport.class).resolveAsRef(false))
            .forEach(components::addSchemas);
        Schema<?> blocked = nullable(object(Map.of("reason", string(), "detail", string(), "since", dateTime()),
                "reason", "detail", "since"))
            .description("why sweeps are stopped, or null");
        Map<String, Schema<?>> sweep = new LinkedHashMap<>();
        sweep.put("instance", string().description("the instance that swept (pid@host)"));
        sweep.put("outcome", string()._enum(List.of("completed", "partial", "blocked", "failed")));
        sweep.put("startedAt", dateTime());
        sweep.put("finishedAt", dateTime());
        sweep.put("trigger", string()._enum(List.of("schedule", "manual")));
        for (String count : List.of("removed", "failed", "skipped", "backlog", "workspaces", "orphans", "unknown")) {
            sweep.put(count, integer());
        }
        sweep.put("filesDeleted", int64());
        sweep.put("bytesFreed", int64());
        sweep.put("stopped", nullable(string()));
        components.addSchemas("ClusterSweep", object(sweep, sweep.keySet().toArray(String[]::new))
            .description("One sweep of some instance of the cluster, from the database"));
        Schema<?> cluster = nullable(object(
                Map.of("checkedAt", dateTime(), "backlog", integer(), "lastRunAt", nullable(dateTime()), "lastRuns",
                        array(ref("ClusterSweep")).maxItems(20)
                            .description("the cluster's newest sweeps, newest first"),
                        "instances",
                        array(ref("ClusterSweep")).maxItems(20)
                            .description("each instance's newest sweep, newest first")),
                "checkedAt", "backlog", "lastRunAt", "lastRuns", "instances"))
            .description("the cluster's sweeps; null while the database cannot be read (source: instance)");
        Map<String, Schema<?>> status = new LinkedHashMap<>();
        status.put("instance",
                string().description("this instance (pid@host), which the fields up to lastRuns describe"));
        status.put("enabled", bool());
        status.put("nextRunAt", nullable(dateTime()));
        status.put("binding",
                string().description("bound, unbound, database-mismatch, marker-unreadable or unchecked"));
        status.put("blocked", blocked);
        status.put("lastRuns", array(ref("SweepReport")).maxItems(20).description("this instance's, newest first"));
        status.put("source", string()._enum(List.of("cluster", "instance")));
        status.put("cluster", cluster);
        components.addSchemas("SweeperStatus", object(status, status.keySet().toArray(String[]::new)));

        openApi.path("/actuator", new PathItem().get(actuator("The Actuator endpoints this instance exposes.",
                ok(actuatorJson(object(Map.of("_links", object(Map.of())), "_links"))), STANDARD_PROBLEMS)));
        for (String path : List.of("/actuator/health", "/actuator/health/liveness", "/actuator/health/readiness")) {
            ApiResponses responses = ok(actuatorJson(ref("Health")));
            responses.addApiResponse("503",
                    new ApiResponse()
                        .description(
                                "DOWN or OUT_OF_SERVICE (readiness: as soon " + "as shutdown begins), or a problem")
                        .content(actuatorJson(ref("Health")).addMediaType(PROBLEM_JSON,
                                new MediaType().schema(ref("Problem")))));
            openApi.path(path, new PathItem().get(actuator(switch (path) {
                case "/actuator/health/liveness" ->
                    "The process is alive; never depends on the database, the " + "filesystem or the sweeper.";
                case "/actuator/health/readiness" -> "Ready for traffic: the database is reachable and migrated.";
                default -> "Composite health with details: db, workspace, sweeper, streams.";
            }, responses, STANDARD_PROBLEMS)));
        }
        openApi.path("/actuator/info",
                new PathItem().get(actuator("Version, git commit, pid, start time, Java version.",
                        ok(actuatorJson(object(Map.of()))), STANDARD_PROBLEMS)));
        openApi.path("/actuator/prometheus",
                new PathItem().get(actuator("All metrics, the `collab_*` ones included.",
                        ok(new Content().addMediaType("text/plain", new MediaType().schema(string()))
                            .addMediaType("application/openmetrics-text", new MediaType().schema(string()))),
                        STANDARD_PROBLEMS)));
        ApiResponses started = new ApiResponses().addApiResponse("202",
                new ApiResponse()
                    .description("A sweep started in the background, or one was already running on this instance.")
                    .content(actuatorJson(object(Map.of("started", bool(), "detail", string()), "started", "detail"))));
        openApi.path("/actuator/sweeper",
                new PathItem().get(actuator(
                        "This instance's sweeper (schedule, last 20 runs) and the cluster's sweeps from the database.",
                        ok(actuatorJson(ref("SweeperStatus"))), STANDARD_PROBLEMS))
                    .post(actuator("Starts a sweep now; the answer comes at once.", started, STANDARD_PROBLEMS)));
    }

    private static Operation actuator(String summary, ApiResponses responses, Map<Integer, String> problems) {
        // No credentials: the load balancer's health checks call these (the management
        // port is never public).
        Map<Integer, String> own = new TreeMap<>(problems);
        own.remove(401);
        own.remove(403);
        return document(
                new Operation().summary(summary).addTagsItem("actuator").responses(responses).security(List.of()), own);
    }

    /**
     * Adds the problem responses that the operation does not document itself, and
     * {@code X-Request-Id} everywhere.
     */
    private static Operation document(Operation operation, Map<Integer, String> problems) {
        if (operation.getResponses() == null) {
            operation.setResponses(new ApiResponses());
        }
        ApiResponses responses = operation.getResponses();
        problems.forEach((status, description) -> {
            ApiResponse response = responses.get(Integer.toString(status));
            if (response == null) {
                responses.addApiResponse(Integer.toString(status), new ApiResponse().description(description)
                    .content(new Content().addMediaType(PROBLEM_JSON, new MediaType().schema(ref("Problem")))));
            }
            else if (response.getContent() == null || response.getContent().get(PROBLEM_JSON) == null) {
                Content content = response.getContent() == null ? new Content() : response.getContent();
                response.content(content.addMediaType(PROBLEM_JSON, new MediaType().schema(ref("Problem"))));
            }
        });
        responses.values()
            .forEach(response -> response.addHeaderObject("X-Request-Id", new Header().required(true)
                .description("the request's id: the one sent (if sane) or a generated one; also in problem bodies "
                        + "and log lines")
                .schema(string())));
        return operation;
    }

    private static Schema<?> problemSchema() {
        Map<String, Schema<?>> properties = new LinkedHashMap<>();
        properties.put("type", string().description("`/problems/<code>`"));
        properties.put("title", string());
        properties.put("status",
                integer().minimum(java.math.BigDecimal.valueOf(400)).maximum(java.math.BigDecimal.valueOf(599)));
        properties.put("detail", string());
        properties.put("instance", string().description("the request path"));
        properties.put("code", string()._enum(Arrays.stream(ProblemCode.values()).map(ProblemCode::slug).toList())
            .description("a short slug; `type` is `/problems/<code>`"));
        properties.put("requestId", string().description("the request's `X-Request-Id`, also in the log"));
        properties.put("errors", array(ref("FieldProblem")).description("with `validation-failed`: each broken rule"));
        properties.put("runId", uuid().description("with `session-busy`: the run in progress"));
        properties.put("decision",
                string()._enum(List.of("allow", "deny")).description("with `approval-decided`: the decision it has"));
        return object(properties, "type", "title", "status", "detail", "code", "requestId")
            .description("RFC 9457 problem details with the `code` and `requestId` extension members.");
    }

    private static ApiResponses ok(Content content) {
        return new ApiResponses().addApiResponse("200", new ApiResponse().description("OK").content(content));
    }

    private static Content actuatorJson(Schema<?> schema) {
        return new Content().addMediaType(ACTUATOR_JSON, new MediaType().schema(schema))
            .addMediaType(JSON, new MediaType().schema(schema));
    }

    // Schemas written for OpenAPI 3.1 (JSON Schema 2020-12: "types") and 3.0 ("type",
    // "nullable") alike.

    // Schema.setProperties takes Map<String, Schema> with the raw type (swagger-models'
    // declaration):
    // the values are schemas of any type, which the raw type is the only way to pass.
    @SuppressWarnings({ "rawtypes", "unchecked" })
    static Schema<?> object(Map<String, ? extends Schema> properties, String... required) {
        Schema<?> schema = typed("object");
        if (!properties.isEmpty()) {
            schema.setProperties(new LinkedHashMap<>((Map<String, Schema>) properties));
        }
        if (required.length > 0) {
            schema.setRequired(List.of(required));
        }
        return schema;
    }

    static Schema<String> string() {
        return typed("string");
    }

    static Schema<?> uuid() {
        return typed("string").format("uuid");
    }

    static Schema<?> dateTime() {
        return typed("string").format("date-time");
    }

    static Schema<?> integer() {
        return typed("integer").format("int32");
    }

    static Schema<?> int64() {
        return typed("integer").format("int64");
    }

    static Schema<?> bool() {
        return typed("boolean");
    }

    static Schema<?> array(Schema<?> items) {
        Schema<?> schema = typed("array");
        schema.setItems(items);
        return schema;
    }

    static Schema<?> ref(String name) {
        return new Schema<>().$ref(SCHEMAS + name);
    }

    static Schema<?> nullable(Schema<?> schema) {
        schema.setNullable(true);
        schema.setTypes(Set.of(schema.getType(), "null"));
        return schema;
    }

    private static <T> Schema<T> typed(String type) {
        Schema<T> schema = new Schema<>();
        schema.setType(type);
        schema.setTypes(Set.of(type));
        return schema;
    }

    private static Map<Integer, String> orderedMap(Object... entries) {
        Map<Integer, String> map = new TreeMap<>();
        for (int i = 0; i < entries.length; i += 2) {
            map.put((Integer) entries[i], (String) entries[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(map);
    }

}
