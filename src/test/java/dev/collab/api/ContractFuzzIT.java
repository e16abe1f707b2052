package dev.collab.api;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;

import dev.collab.support.Api;
import dev.collab.support.ContractValidator;
import dev.collab.support.RawHttp;
import dev.collab.support.ServerProcess;
import dev.collab.support.TempDirectories;
import dev.collab.support.TestDatabase;
import org.junit.jupiter.api.Test;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Requests generated from the server's own OpenAPI document: for every operation in it,
 * valid, boundary and malformed values for every path, query, header and body field
 * (wrong JSON types, huge and empty strings, U+0000, lone surrogates, invalid UTF-8 and
 * percent-encoding, non-ASCII digits, duplicate headers, wrong content types and
 * charsets, wrong methods). One server process (its log captured), bounded by tries and
 * by time, seeded: the seed is printed, and {@code -Dfuzz.seed=} replays a run
 * ({@code -Dfuzz.tries=}, {@code -Dfuzz.seconds=} bound it).
 * <p>
 * It holds the server to: no 5xx, no answerless connection, no ERROR log line, every
 * answer valid against the document, and no refusal (400) of a request that the document
 * allows.
 * <p>
 * Written with JUnit and a seeded {@link Random} rather than jqwik. jqwik 1.10.1 does run
 * on the JUnit Platform 6 that Spring Boot 4.1 brings (tried), but its maintainers call
 * 1.10 the last release on Platform 1.x, and 1.10.1 prints into every run's output a
 * notice that coding agents must not use it; a generator driven by the document needs no
 * more than a seeded {@code Random}.
 */
class ContractFuzzIT {

    private static final long SEED = Long.getLong("fuzz.seed", new SecureRandom().nextLong());

    private static final int TRIES = Integer.getInteger("fuzz.tries", 3000);

    private static final Duration BUDGET = Duration.ofSeconds(Long.getLong("fuzz.seconds", 90));

    private static final int ANSWER_TIMEOUT_MILLIS = 15_000;

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private static final String MARK = "\"@@fuzz-mark@@\"";

    /** One operation of the document. */
    record Operation(String method, String path, List<Parameter> parameters, JsonNode body, boolean bodyRequired) {

        String name() {
            return method + " " + path;
        }
    }

    record Parameter(String name, String in, JsonNode schema, boolean required) {
    }

    /** A generated request and what kind of request it is meant to be. */
    record Case(String kind, boolean meantValid, RawHttp.Request request) {
    }

    private final Random random = new Random(SEED);

    private JsonNode document;

    private final List<String> projects = new ArrayList<>();

    private final List<String> sessions = new ArrayList<>();

    /**
     * By path: a cursor is only valid for the list that gave it (a session list's cursor
     * is no audit cursor).
     */
    private final Map<String, List<String>> cursors = new HashMap<>();

    @Test
    void requestsGeneratedFromTheDocumentKeepIt() {
        System.out.println("ContractFuzzIT: seed " + SEED + " (replay with -Dfuzz.seed=" + SEED + "), at most " + TRIES
                + " requests or " + BUDGET.toSeconds() + " s");
        Path dataDir = TempDirectories.create("fuzz-");
        try (ServerProcess server = ServerProcess.start(Map.of("LOG_FORMAT", "json"), dataDir, serverArgs())
            .awaitReady()) {
            Api api = server.api();
            ContractValidator validator = ContractValidator.forServer(api.base());
            assertThat(validator).as("the document at /v3/api-docs").isNotNull();
            document = validator.document();
            List<Operation> operations = operations(document);
            assertThat(operations).as("operations in the document").hasSizeGreaterThanOrEqualTo(15);
            int port = Integer.parseInt(api.base().substring(api.base().lastIndexOf(':') + 1));

            String project = api.newProject("fuzz");
            projects.add(project);
            for (int i = 0; i < 3; i++) {
                sessions.add(api.newSession(project).toString());
            }

            Map<String, String> failures = new LinkedHashMap<>();
            Map<String, Integer> statuses = new TreeMap<>();
            Instant deadline = Instant.now().plus(BUDGET);
            int sent = 0;
            for (; sent < TRIES && Instant.now().isBefore(deadline); sent++) {
                // Round robin over operations (every one gets its share), the kind of
                // request at random.
                Operation operation = operations.get(sent % operations.size());
                Case generated = generate(operation);
                RawHttp.Response response = RawHttp.exchange(port, generated.request(), ANSWER_TIMEOUT_MILLIS);
                statuses.merge(operation.name() + " " + response.status(), 1, Integer::sum);
                String problem = judge(validator, operation, generated, response);
                if (problem != null) {
                    // One example per operation, kind and status keeps the report
                    // readable.
                    failures.putIfAbsent(operation.name() + " [" + generated.kind() + "] " + response.status(),
                            problem + "\n  request: " + generated.request().describe() + "\n  response: "
                                    + response.status() + " " + response.headers() + " "
                                    + RawHttp.abbreviate(String.valueOf(response.body()), 400));
                }
                learn(operation, response);
            }
            List<String> errors = errorLines(server);
            List<String> warnings = clientWarnLines(server);
            System.out.println("ContractFuzzIT: " + sent + " requests, statuses per operation: " + statuses);
            errors.stream().limit(10).forEach(line -> System.out.println("ContractFuzzIT: ERROR line: " + line));
            StringBuilder report = new StringBuilder();
            failures.forEach((what, why) -> report.append("\n- ").append(what).append(": ").append(why));
            assertThat(failures).as("seed " + SEED + ": requests whose answers break the contract:" + report).isEmpty();
            assertThat(errors).as("seed " + SEED + ": ERROR lines in the server's log").isEmpty();
            assertThat(warnings)
                .as("seed " + SEED + ": WARN lines a client can cause at will (or springdoc's at startup)")
                .isEmpty();
        }
    }

    private static String[] serverArgs() {
        TestDatabase.Server db = TestDatabase.server();
        return new String[] { "--spring.datasource.url=" + TestDatabase.newDatabase(),
                "--spring.datasource.username=" + db.user(), "--spring.datasource.password=" + db.password(),
                // An agent that only echoes its message: runs end at once, whatever the
                // text.
                "--collab.runner.command=cat", "--collab.runner.timeout=5s", "--collab.sweeper.initial-delay=1h",
                // The document's repoUrl pattern includes file:// (allowed only where
                // this
                // setting is on; its description says so): the fuzzer samples it.
                "--collab.workspace.allow-file-repos=true", };
    }

    // ---- judging

    private String judge(ContractValidator validator, Operation operation, Case generated, RawHttp.Response response) {
        if (response.status() < 0) {
            return "no answer: " + response.failure();
        }
        if (response.status() >= 500) {
            return "a 5xx";
        }
        String target = generated.request().target();
        int question = target.indexOf('?');
        Map<String, List<String>> requestHeaders = new LinkedHashMap<>();
        for (String[] header : generated.request().headers()) {
            requestHeaders.computeIfAbsent(header[0], ignored -> new ArrayList<>()).add(header[1]);
        }
        var exchange = new ContractValidator.Exchange(generated.request().method(),
                question < 0 ? target : target.substring(0, question),
                question < 0 ? null : target.substring(question + 1), requestHeaders, generated.request().body(),
                response.status(), response.headers(), response.body());
        List<String> violations = validator.violations(exchange, false);
        if (!violations.isEmpty()) {
            return "breaks the document: " + String.join("; ", violations);
        }
        if (generated.meantValid() && response.status() == 400 && !beyondTheHead(exchange)) {
            List<String> requestViolations = validator.requestViolations(exchange);
            if (requestViolations.isEmpty()) {
                return "the document allows this request, the server refused it";
            }
        }
        return null;
    }

    /**
     * {@code PUT /api/sessions/{id}/read} with a {@code seq} past the session's
     * {@code headSeq}: a 400 that depends on the session's state, which the document
     * cannot express (its schema only says {@code seq >= 0}).
     */
    private static boolean beyondTheHead(ContractValidator.Exchange exchange) {
        return "PUT".equals(exchange.method()) && exchange.rawPath().matches("/api/sessions/[^/]+/read")
                && exchange.responseBody() != null && exchange.responseBody().contains("headSeq");
    }

    /** Ids and cursors from answers, so later requests name things that exist. */
    private void learn(Operation operation, RawHttp.Response response) {
        if (response.body() == null || response.status() >= 300 || !response.body().startsWith("{")) {
            return;
        }
        try {
            JsonNode body = Api.JSON.readTree(response.body());
            if (operation.method().equals("POST") && operation.path().endsWith("/sessions") && body.has("id")
                    && sessions.size() < 50) {
                sessions.add(body.get("id").asString());
            }
            if (operation.method().equals("PUT") && body.has("key") && response.status() == 201
                    && projects.size() < 20) {
                projects.add(body.get("key").asString());
            }
            List<String> listCursors = cursors.computeIfAbsent(operation.path(), path -> new ArrayList<>());
            if (body.path("nextCursor").isString() && listCursors.size() < 20) {
                listCursors.add(body.get("nextCursor").asString());
            }
        }
        catch (JacksonException e) {
            // not JSON: nothing to learn
        }
    }

    /**
     * Loggers that wrote a WARN line per bad request (or per startup), so any client
     * could fill the log.
     */
    private static final List<String> CLIENT_WARN_LOGGERS = List.of("org.springframework.web.servlet.PageNotFound",
            "org.eclipse.jetty.http.HttpParser", "org.springdoc");

    private static List<String> clientWarnLines(ServerProcess server) {
        return server.outputLines()
            .stream()
            .filter(line -> line.contains("WARN"))
            .filter(line -> CLIENT_WARN_LOGGERS.stream().anyMatch(line::contains))
            .map(line -> RawHttp.abbreviate(line, 500))
            .toList();
    }

    /**
     * The log's ERROR lines (JSON lines, as operators read them), and any other line that
     * looks like a failure.
     */
    private static List<String> errorLines(ServerProcess server) {
        List<String> errors = new ArrayList<>();
        for (String line : server.outputLines()) {
            if (line.startsWith("{")) {
                try {
                    if (Api.JSON.readTree(line).path("log").path("level").asString().equals("ERROR")) {
                        errors.add(RawHttp.abbreviate(line, 1500));
                    }
                }
                catch (JacksonException e) {
                    errors.add("unreadable log line: " + RawHttp.abbreviate(line, 500));
                }
            }
            else if (line.contains("ERROR") || line.contains("Exception")) {
                errors.add(RawHttp.abbreviate(line, 500));
            }
        }
        return errors;
    }

    // ---- the document

    private static List<Operation> operations(JsonNode document) {
        List<Operation> operations = new ArrayList<>();
        document.path("paths").properties().forEach(path -> path.getValue().properties().forEach(entry -> {
            JsonNode operation = entry.getValue();
            List<Parameter> parameters = new ArrayList<>();
            for (JsonNode parameter : operation.path("parameters")) {
                parameters.add(new Parameter(parameter.path("name").asString(), parameter.path("in").asString(),
                        parameter.path("schema"), parameter.path("required").asBoolean(false)));
            }
            JsonNode body = operation.path("requestBody").path("content").path("application/json").path("schema");
            operations.add(new Operation(entry.getKey().toUpperCase(Locale.ROOT), path.getKey(), parameters,
                    body.isMissingNode() ? null : body,
                    operation.path("requestBody").path("required").asBoolean(false)));
        }));
        return operations;
    }

    private JsonNode resolve(JsonNode schema) {
        if (schema != null && schema.has("anyOf")) {
            // "this or null" (an optional body): generate the "this"; null is one of the
            // whole-body cases.
            for (JsonNode alternative : schema.get("anyOf")) {
                if (!types(alternative).equals(List.of("null"))) {
                    return resolve(alternative);
                }
            }
        }
        while (schema != null && schema.has("$ref")) {
            String ref = schema.get("$ref").asString();
            schema = document.path("components").path("schemas").path(ref.substring(ref.lastIndexOf('/') + 1));
        }
        return schema;
    }

    private static List<String> types(JsonNode schema) {
        JsonNode type = schema.path("type");
        List<String> types = new ArrayList<>();
        if (type.isArray()) {
            type.forEach(t -> types.add(t.asString()));
        }
        else if (type.isString()) {
            types.add(type.asString());
        }
        return types;
    }

    private static String mainType(JsonNode schema) {
        return types(schema).stream().filter(t -> !t.equals("null")).findFirst().orElse("object");
    }

    // ---- generation

    private Case generate(Operation operation) {
        int roll = random.nextInt(100);
        if (roll < 40) {
            return build(operation, "valid", true, null, null, null);
        }
        if (roll < 52) {
            return boundary(operation);
        }
        if (roll < 72) {
            return malformedParameter(operation);
        }
        if (roll < 87) {
            return malformedBody(operation);
        }
        if (roll < 93) {
            // A token that is no token: 401 unauthenticated (the login operations answer
            // as for anyone).
            return build(operation, "unauthenticated", false, null, null,
                    List.<String[]>of(new String[] { "Authorization", "Bearer collab_pat_not-a-token" }));
        }
        return malformedProtocol(operation);
    }

    /**
     * The request with valid values everywhere except where {@code override} (parameter
     * name to raw text: already percent-encoded for the path and query) or {@code body}
     * say otherwise.
     */
    private Case build(Operation operation, String kind, boolean meantValid, Map<String, String> override, byte[] body,
            List<String[]> extraHeaders) {
        String path = operation.path();
        StringBuilder query = new StringBuilder();
        List<String[]> headers = new ArrayList<>();
        headers.add(new String[] { "Host", "localhost" });
        headers.add(new String[] { "Connection", "close" });
        for (Parameter parameter : operation.parameters()) {
            boolean overridden = override != null && override.containsKey(parameter.name());
            // With a bad value somewhere, the optional parameters stay out: one thing
            // wrong at a time, and
            // none that wins over it (Last-Event-ID over ?after=).
            if (!overridden && !parameter.required() && (override != null || random.nextBoolean())) {
                continue;
            }
            String value = overridden ? override.get(parameter.name()) : validParameter(operation, parameter);
            if (value == null) {
                continue;
            }
            switch (parameter.in()) {
                case "path" -> path = path.replace("{" + parameter.name() + "}", overridden ? value : encode(value));
                case "query" -> query.append(query.isEmpty() ? "?" : "&")
                    .append(parameter.name())
                    .append('=')
                    .append(overridden ? value : encode(value));
                case "header" -> headers.add(new String[] { parameter.name(), value });
                default -> {
                }
            }
        }
        if (override != null && override.containsKey("?")) {
            query.append(query.isEmpty() ? "?" : "&").append(override.get("?"));
        }
        byte[] bytes = body;
        if (bytes == null && operation.body() != null && (operation.bodyRequired() || random.nextBoolean())) {
            bytes = Api.JSON.writeValueAsString(validValue(operation.body(), 0)).getBytes(StandardCharsets.UTF_8);
        }
        boolean hasContentType = extraHeaders != null
                && extraHeaders.stream().anyMatch(header -> header[0].equalsIgnoreCase("Content-Type"));
        if (bytes != null && !hasContentType) {
            headers.add(new String[] { "Content-Type", "application/json" });
        }
        if (extraHeaders != null) {
            headers.addAll(extraHeaders);
        }
        if (bytes != null || operation.method().equals("POST") || operation.method().equals("PUT")) {
            headers.add(new String[] { "Content-Length", Integer.toString(bytes == null ? 0 : bytes.length) });
        }
        return new Case(kind, meantValid, new RawHttp.Request(operation.method(), path + query, headers, bytes));
    }

    private String validParameter(Operation operation, Parameter parameter) {
        JsonNode schema = resolve(parameter.schema());
        if (parameter.name().equals("key") && !projects.isEmpty() && random.nextInt(10) < 7) {
            return pick(projects);
        }
        if ("uuid".equals(schema.path("format").asString(null)) && !sessions.isEmpty() && random.nextInt(10) < 7) {
            return pick(sessions);
        }
        if (parameter.name().equals("cursor")) {
            // Opaque: only a cursor the server gave is a valid one.
            List<String> listCursors = cursors.getOrDefault(operation.path(), List.of());
            return listCursors.isEmpty() ? null : pick(listCursors);
        }
        String value = text(validValue(schema, 0));
        if (parameter.in().equals("header")) {
            // HTTP trims a header value, and a client sends text only in ASCII.
            value = schema.has("pattern") || schema.has("format") || schema.has("enum")
                    || !mainType(schema).equals("string") ? value.strip()
                            : Long.toString(random.nextLong() & Long.MAX_VALUE, 36);
            if (value.isEmpty()) {
                value = "k";
            }
        }
        return value;
    }

    private static String text(JsonNode value) {
        return value.isString() ? value.asString() : value.toString();
    }

    private JsonNode validValue(JsonNode schema, int depth) {
        schema = resolve(schema);
        List<String> types = types(schema);
        if (types.contains("null") && random.nextInt(4) == 0) {
            return NODES.nullNode();
        }
        if (schema.has("enum")) {
            return schema.get("enum").get(random.nextInt(schema.get("enum").size()));
        }
        switch (mainType(schema)) {
            case "integer" -> {
                long min = schema.path("minimum").asLong(0);
                long max = schema.path("maximum").asLong(min + 1000);
                return NODES.numberNode(min + (long) (random.nextDouble() * (max - min + 1)));
            }
            case "boolean" -> {
                return NODES.booleanNode(random.nextBoolean());
            }
            case "array" -> {
                ArrayNode array = NODES.arrayNode();
                if (depth < 3) {
                    for (int i = random.nextInt(3); i > 0; i--) {
                        array.add(validValue(schema.path("items"), depth + 1));
                    }
                }
                return array;
            }
            case "string" -> {
                return NODES.stringNode(validString(schema));
            }
            default -> {
                ObjectNode object = NODES.objectNode();
                List<String> required = new ArrayList<>();
                schema.path("required").forEach(name -> required.add(name.asString()));
                schema.path("properties").properties().forEach(property -> {
                    if (required.contains(property.getKey()) || random.nextBoolean()) {
                        object.set(property.getKey(), validValue(property.getValue(), depth + 1));
                    }
                });
                return object;
            }
        }
    }

    private String validString(JsonNode schema) {
        String format = schema.path("format").asString("");
        if (format.equals("uuid")) {
            return UUID.randomUUID().toString();
        }
        if (format.equals("date-time")) {
            return Instant.now().toString();
        }
        int min = schema.path("minLength").asInt(0);
        int max = Math.min(schema.path("maxLength").asInt(min + 30), min + 300);
        if (schema.has("pattern")) {
            String pattern = schema.get("pattern").asString();
            for (int attempt = 0; attempt < 20; attempt++) {
                String sample = RegexSample.sample(pattern, random);
                int length = sample.codePointCount(0, sample.length());
                if (length >= min && length <= schema.path("maxLength").asInt(Integer.MAX_VALUE)
                        && Pattern.compile(pattern).matcher(sample).find()) {
                    return sample;
                }
            }
            throw new IllegalStateException("no sample of " + pattern);
        }
        int length = Math.max(min, 1) + random.nextInt(Math.max(1, max - Math.max(min, 1) + 1));
        if (random.nextInt(8) == 0) {
            length = schema.path("maxLength").asInt(length); // the upper boundary, in
                                                             // characters (code points)
        }
        return letters(length);
    }

    /**
     * {@code length} characters (code points), not blank: ASCII, accents, CJK and emoji
     * (two UTF-16 units each).
     */
    private String letters(int length) {
        String[] alphabet = { "a", "b", "Z", "7", " ", "é", "ß", "中", "😀", "-", "_", "\"" };
        StringBuilder text = new StringBuilder("x");
        boolean emoji = random.nextInt(4) == 0;
        for (int i = 1; i < length; i++) {
            text.append(emoji ? "😀" : alphabet[random.nextInt(alphabet.length)]);
        }
        return text.toString();
    }

    private Case boundary(Operation operation) {
        List<Parameter> candidates = operation.parameters()
            .stream()
            .filter(p -> !p.name().equals("X-Request-Id"))
            .toList();
        if (candidates.isEmpty() || (operation.body() != null && random.nextBoolean())) {
            return boundaryBody(operation);
        }
        Parameter parameter = pick(candidates);
        JsonNode schema = resolve(parameter.schema());
        List<String> values = new ArrayList<>();
        if (mainType(schema).equals("integer")) {
            long min = schema.path("minimum").asLong(0);
            values.addAll(List.of(Long.toString(min), Long.toString(min - 1), "0", "9223372036854775807",
                    "9223372036854775808", "-0"));
            if (schema.has("maximum")) {
                long max = schema.get("maximum").asLong();
                values.addAll(List.of(Long.toString(max), Long.toString(max + 1)));
            }
        }
        else if (parameter.name().equals("key")) {
            values.addAll(List.of("a", "a".repeat(64), "a".repeat(65), "0", "a.b_c-d", "a..", "-a", ".a", "A"));
        }
        else if ("uuid".equals(schema.path("format").asString(null))) {
            values.addAll(List.of(UUID.randomUUID().toString().toUpperCase(Locale.ROOT),
                    "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
                    UUID.randomUUID().toString().replace("-", ""), "{" + UUID.randomUUID() + "}"));
        }
        else {
            values.addAll(List.of("", "x", "x".repeat(255), "x".repeat(256), " x ", "*"));
        }
        String value = pick(values);
        // A cursor is opaque: only one the server gave is valid, whatever its shape.
        boolean valid = isValid(schema, value) && !parameter.name().equals("cursor");
        return build(operation, "boundary " + parameter.name() + "=" + RawHttp.abbreviate(value, 20), valid,
                Map.of(parameter.name(), parameter.in().equals("header") ? value : encode(value)), null, null);
    }

    private Case boundaryBody(Operation operation) {
        if (operation.body() == null) {
            return build(operation, "valid", true, null, null, null);
        }
        JsonNode schema = resolve(operation.body());
        ObjectNode body = (ObjectNode) validValue(schema, 0);
        List<Map.Entry<String, JsonNode>> properties = new ArrayList<>();
        schema.path("properties").properties().forEach(properties::add);
        Map.Entry<String, JsonNode> property = pick(properties);
        JsonNode propertySchema = resolve(property.getValue());
        int max = propertySchema.path("maxLength").asInt(200);
        int min = propertySchema.path("minLength").asInt(0);
        String value = switch (random.nextInt(5)) {
            case 0 -> letters(Math.max(max, 1));
            case 1 -> letters(max + 1);
            case 2 -> "😀".repeat(max);
            case 3 -> "x".repeat(Math.max(min, 1));
            default -> min > 0 ? "" : "é".repeat(max);
        };
        body.put(property.getKey(), value);
        if (propertySchema.has("pattern")) {
            // Boundaries of length only: a pattern makes most of them invalid anyway.
            body.set(property.getKey(), validValue(propertySchema, 1));
        }
        String kind = "boundary body " + property.getKey() + " of " + value.codePointCount(0, value.length())
                + " chars";
        boolean valid = !propertySchema.has("pattern") && value.codePointCount(0, value.length()) <= max
                && value.codePointCount(0, value.length()) >= min;
        return build(operation, kind, valid, null, Api.JSON.writeValueAsString(body).getBytes(StandardCharsets.UTF_8),
                null);
    }

    private static boolean isValid(JsonNode schema, String value) {
        try {
            if (mainType(schema).equals("integer")) {
                if (!value.matches("[0-9]+")) { // the document's integers are written in
                                                // ASCII digits, no sign
                    return false;
                }
                long number = Long.parseLong(value);
                return number >= schema.path("minimum").asLong(Long.MIN_VALUE)
                        && number <= schema.path("maximum").asLong(Long.MAX_VALUE);
            }
        }
        catch (NumberFormatException e) {
            return false;
        }
        if (schema.has("pattern") && !Pattern.compile(schema.get("pattern").asString()).matcher(value).find()) {
            return false;
        }
        if ("uuid".equals(schema.path("format").asString(null))) {
            return value.matches("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
        }
        int length = value.codePointCount(0, value.length());
        return length >= schema.path("minLength").asInt(0)
                && length <= schema.path("maxLength").asInt(Integer.MAX_VALUE);
    }

    /**
     * Raw (already percent-encoded, or not encodable at all) values that break a
     * parameter's rule or its encoding.
     */
    private static final List<String> MALFORMED_RAW = List.of("%zz", "%", "%%%garbage", "%C0%80", "%FF", "%E2%82",
            "%00", "a%00b", "%ED%A0%80", "%D9%A5", "%EF%BC%95", "+5", "%2B5", "%205", "5%20", "1-1-1-1-1", "0x10",
            "1e3", "-1", "99999999999999999999", "", "%F0%9F%98%80", "true", "%5B%5D", "%2E%2E", "a%2Fb", "%5C", "null",
            "NaN", "1.5", "x".repeat(3000),
            // Not percent-encoded at all: raw UTF-8 bytes on the wire (docs/api.md:
            // refused).
            "é", "\u00ff", "a😀");

    /**
     * Header values: non-ASCII, control characters left out (they cannot be sent), huge,
     * empty.
     */
    private static final List<String> MALFORMED_HEADER = List.of("٥", "é", "abc", "-1", "", " ", "1,2",
            "9223372036854775808", "x".repeat(300), "\u00ff\u00fe", "a\tb", "😀");

    private Case malformedParameter(Operation operation) {
        if (operation.parameters().isEmpty() || random.nextInt(5) == 0) {
            String unknown = pick(
                    List.of("%zz=1", "=", "&&&", "a=%FF", "limit=%", "after=%%", "%00=%00", "x=" + "%41".repeat(500),
                            "a[]=1&a[]=2", "cursor=%%%garbage", "state=%FF", "x=é", "limit=5&y=\u00ff"));
            return build(operation, "query " + unknown, false, Map.of("?", unknown), null, null);
        }
        Parameter parameter = pick(operation.parameters());
        if (parameter.in().equals("header")) {
            String value = pick(MALFORMED_HEADER);
            if (random.nextBoolean()) {
                // The header twice: one valid value and one more.
                return build(operation, "duplicate header " + parameter.name(), false, null, null,
                        List.<String[]>of(
                                new String[] { parameter.name(), validParameterOr(operation, parameter, "1") },
                                new String[] { parameter.name(), validParameterOr(operation, parameter, "2") }));
            }
            return build(operation, "header " + parameter.name() + "=" + RawHttp.abbreviate(value, 20), false,
                    Map.of(parameter.name(), value), null, null);
        }
        String value = pick(MALFORMED_RAW);
        if (parameter.in().equals("path") && value.isEmpty()) {
            value = "%20";
        }
        return build(operation, parameter.in() + " " + parameter.name() + "=" + RawHttp.abbreviate(value, 20), false,
                Map.of(parameter.name(), value), null, null);
    }

    private String validParameterOr(Operation operation, Parameter parameter, String fallback) {
        String value = validParameter(operation, parameter);
        return value == null ? fallback : value;
    }

    private Case malformedBody(Operation operation) {
        if (operation.body() == null) {
            // A body where none is expected: must not matter, or be refused with a
            // problem.
            byte[] junk = pick(List.of("{}", "{\"a\":1}", "x", "[".repeat(100))).getBytes(StandardCharsets.UTF_8);
            return build(operation, "unexpected body", false, null, junk, null);
        }
        JsonNode schema = resolve(operation.body());
        if (random.nextInt(3) == 0) {
            return wholeBody(operation);
        }
        ObjectNode body = (ObjectNode) validValue(schema, 0);
        List<String> names = new ArrayList<>();
        schema.path("properties").properties().forEach(property -> names.add(property.getKey()));
        String name = pick(names);
        body.put(name, "@@fuzz-mark@@");
        String json = Api.JSON.writeValueAsString(body);
        int kind = random.nextInt(22);
        byte[] value = switch (kind) {
            case 0 -> "42".getBytes(StandardCharsets.UTF_8);
            case 1 -> "true".getBytes(StandardCharsets.UTF_8);
            case 2 -> "1.5".getBytes(StandardCharsets.UTF_8);
            case 3 -> "[]".getBytes(StandardCharsets.UTF_8);
            case 4 -> "{\"a\":\"b\"}".getBytes(StandardCharsets.UTF_8);
            case 5 -> "[\"x\"]".getBytes(StandardCharsets.UTF_8);
            case 6 -> "\"\"".getBytes(StandardCharsets.UTF_8);
            case 7 -> ("\"" + "y".repeat(300_000) + "\"").getBytes(StandardCharsets.UTF_8);
            case 8 -> "\"a\\u0000b\"".getBytes(StandardCharsets.UTF_8);
            case 9 -> "\"a\\ud800b\"".getBytes(StandardCharsets.UTF_8);
            case 10 -> "\"\\udc00\"".getBytes(StandardCharsets.UTF_8);
            case 11 -> bytes("\"a", new byte[] { (byte) 0xC0, (byte) 0x80 }, "b\"");
            case 12 -> bytes("\"a", new byte[] { (byte) 0xFF }, "b\"");
            case 13 -> bytes("\"a", new byte[] { (byte) 0xED, (byte) 0xA0, (byte) 0x80 }, "b\"");
            case 14 -> "\"\u200B\u00A0\"".getBytes(StandardCharsets.UTF_8);
            case 15 -> "\"   \"".getBytes(StandardCharsets.UTF_8);
            case 16 -> "1e999999".getBytes(StandardCharsets.UTF_8);
            // Overlong and out-of-range UTF-8, which Jackson's own reader decoded (to
            // "A", U+0001…).
            case 18 -> bytes("\"a", new byte[] { (byte) 0xC1, (byte) 0x81 }, "b\"");
            case 19 -> bytes("\"a", new byte[] { (byte) 0xE0, (byte) 0x80, (byte) 0x81 }, "b\"");
            case 20 -> bytes("\"a", new byte[] { (byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80 }, "b\"");
            default -> "null".getBytes(StandardCharsets.UTF_8);
        };
        int at = json.indexOf(MARK);
        byte[] before = json.substring(0, at).getBytes(StandardCharsets.UTF_8);
        byte[] after = json.substring(at + MARK.length()).getBytes(StandardCharsets.UTF_8);
        String label = RawHttp.abbreviate(new String(value, StandardCharsets.UTF_8), 20);
        return build(operation, "body " + name + "=" + label, false, bytes(before, value, after), null);
    }

    private Case wholeBody(Operation operation) {
        String valid = Api.JSON.writeValueAsString(validValue(operation.body(), 0));
        int kind = random.nextInt(14);
        byte[] body = switch (kind) {
            case 0 -> new byte[0];
            case 1 -> "{".getBytes(StandardCharsets.UTF_8);
            case 2 -> "[]".getBytes(StandardCharsets.UTF_8);
            case 3 -> "\"x\"".getBytes(StandardCharsets.UTF_8);
            case 4 -> "null".getBytes(StandardCharsets.UTF_8);
            case 5 -> "{\"a\":1,}".getBytes(StandardCharsets.UTF_8);
            case 6 -> ("{\"x\":" + "[".repeat(5000) + "]".repeat(5000) + "}").getBytes(StandardCharsets.UTF_8);
            case 7 -> (valid + valid).getBytes(StandardCharsets.UTF_8);
            case 8 -> (valid + " x").getBytes(StandardCharsets.UTF_8);
            case 9 -> ("/*c*/" + valid).getBytes(StandardCharsets.UTF_8);
            case 10 ->
                bytes(new byte[] { (byte) 0xEF, (byte) 0xBB, (byte) 0xBF }, valid.getBytes(StandardCharsets.UTF_8));
            case 11 -> valid.getBytes(StandardCharsets.UTF_16);
            case 12 -> duplicateMember(valid).getBytes(StandardCharsets.UTF_8);
            default -> valid.replace("\"", "'").getBytes(StandardCharsets.UTF_8);
        };
        return build(operation, "whole body #" + kind, false, body, null);
    }

    private Case build(Operation operation, String kind, boolean meantValid, byte[] body, List<String[]> headers) {
        return build(operation, kind, meantValid, null, body, headers);
    }

    private static String duplicateMember(String json) {
        int colon = json.indexOf(':');
        if (!json.startsWith("{\"") || colon < 0) {
            return json;
        }
        String name = json.substring(1, colon);
        return "{" + name + ":\"first\"," + json.substring(1);
    }

    private Case malformedProtocol(Operation operation) {
        int kind = random.nextInt(14);
        switch (kind) {
            case 0, 1 -> {
                String contentType = pick(List.of("text/plain", "application/xml", "application/x-www-form-urlencoded",
                        "multipart/form-data; boundary=x", "application/json;charset=ISO-8859-1",
                        "application/json; charset=utf-16", "application/json;charset=bogus",
                        "application/json, text/plain", "application/merge-patch+json", "json",
                        "application/json;charset=\"utf-8\"", "*/*", ""));
                byte[] body = operation.body() == null ? "{}".getBytes(StandardCharsets.UTF_8)
                        : Api.JSON.writeValueAsString(validValue(operation.body(), 0))
                            .getBytes(StandardCharsets.ISO_8859_1);
                return build(operation, "Content-Type " + contentType, false, body,
                        List.<String[]>of(new String[] { "Content-Type", contentType }));
            }
            case 2 -> {
                return build(operation, "two Content-Types", false,
                        operation.body() == null ? null
                                : Api.JSON.writeValueAsString(validValue(operation.body(), 0))
                                    .getBytes(StandardCharsets.UTF_8),
                        List.<String[]>of(new String[] { "Content-Type", "application/json" },
                                new String[] { "Content-Type", "text/plain" }));
            }
            case 3 -> {
                String accept = pick(List.of("text/html", "application/xml", "*/*;q=0", "text/event-stream",
                        "application/json;q=0", "image/*", "bogus", "application/problem+json",
                        // Empty list elements, which probes send and Actuator split on
                        // itself (a 500 before).
                        ",", "application/json,,", "*/*;q=0.5,,", " ,", ", ,*/*", "a/b/c", "application/json;;"));
                return build(operation, "Accept " + accept, false, null, null,
                        List.<String[]>of(new String[] { "Accept", accept }));
            }
            case 4 -> {
                String method = pick(
                        List.of("PATCH", "TRACE", "OPTIONS", "HEAD", "DELETE", "PUT", "POST", "GET", "FOO", "get"));
                Case base = build(operation, "method " + method, false, null, null, null);
                RawHttp.Request request = base.request();
                return new Case(base.kind(), false,
                        new RawHttp.Request(method, request.target(), request.headers(), request.body()));
            }
            case 5 -> {
                return build(operation, "huge header", false, null, null,
                        List.<String[]>of(new String[] { "X-Fuzz", "h".repeat(20_000) }));
            }
            case 6 -> {
                return build(operation, "huge query", false, Map.of("?", "q=" + "q".repeat(20_000)), null, null);
            }
            case 7 -> {
                return build(operation, "non-ASCII X-Request-Id", false, null, null,
                        List.<String[]>of(new String[] { "X-Request-Id", "réq-😀" }));
            }
            case 8 -> {
                return build(operation, "two X-Request-Ids", false, null, null,
                        List.<String[]>of(new String[] { "X-Request-Id", "a" }, new String[] { "X-Request-Id", "b" }));
            }
            case 9 -> {
                return build(operation, "Expect 100-continue", true, null, null,
                        List.<String[]>of(new String[] { "Expect", "100-continue" }));
            }
            case 10 -> {
                Case base = build(operation, "path suffix", false, null, null, null);
                String suffix = pick(List.of("/", "/x", "//", "/..", "/%2e%2e", ";jsessionid=1", ".json", "%20"));
                RawHttp.Request request = base.request();
                int question = request.target().indexOf('?');
                String target = question < 0 ? request.target() + suffix
                        : request.target().substring(0, question) + suffix + request.target().substring(question);
                return new Case("path suffix " + suffix, false,
                        new RawHttp.Request(request.method(), target, request.headers(), request.body()));
            }
            case 12 -> {
                // A Content-Type on a request without a body: nothing to decode, so it
                // must not matter.
                String contentType = pick(List.of("text/plain; charset=ISO-8859-1", "*/*", "nonsense",
                        "application/json; charset=utf-16"));
                if (operation.body() != null || !operation.method().equals("GET")) {
                    return build(operation, "Accept list " + contentType, false, null, null,
                            List.<String[]>of(new String[] { "Accept", "application/json,," + contentType }));
                }
                return build(operation, "bodiless Content-Type " + contentType, false, null, null,
                        List.<String[]>of(new String[] { "Content-Type", contentType }));
            }
            default -> {
                return build(operation, "If-None-Match / Accept-Charset noise", true, null, null, List.<String[]>of(
                        new String[] { "Accept-Charset", "iso-8859-1" }, new String[] { "Accept-Encoding", "gzip" }));
            }
        }
    }

    private static byte[] bytes(Object... parts) {
        var out = new java.io.ByteArrayOutputStream();
        for (Object part : parts) {
            out.writeBytes(part instanceof byte[] raw ? raw : part.toString().getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    /**
     * Percent-encodes a value for a path segment or a query value (UTF-8, unreserved
     * characters kept).
     */
    static String encode(String value) {
        StringBuilder out = new StringBuilder();
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
                    || c == '_' || c == '~') {
                out.append((char) c);
            }
            else {
                out.append('%').append(String.format("%02X", c));
            }
        }
        return out.toString();
    }

    private <T> T pick(List<T> values) {
        return values.get(random.nextInt(values.size()));
    }

}
