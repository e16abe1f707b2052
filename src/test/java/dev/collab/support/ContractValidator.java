package dev.collab.support;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleRequest;
import com.atlassian.oai.validator.model.SimpleResponse;
import com.atlassian.oai.validator.report.ValidationReport;
import tools.jackson.databind.JsonNode;

/**
 * Holds every exchange a test makes to the server's own OpenAPI document
 * ({@code /v3/api-docs}, fetched once per server and cached), with Atlassian's validator.
 * The response is always checked; the request when asked (a test that meant to send a
 * valid one) and whenever the server accepted it (a 2xx for a request the document
 * forbids means the document is wrong). Any 4xx/5xx is also checked by hand to be the
 * contract's problem+json, which covers paths and methods the document does not have
 * (404, 405), unless the document gives that status another body (health's 503).
 * <p>
 * A few leniencies of the server are not held against an accepted request, as docs/api.md
 * says: a body on a GET or DELETE is ignored, an empty optional parameter is none,
 * {@code If-None-Match} is a list, and {@code Accept} does not matter for a 204 or for
 * the event stream.
 */
public final class ContractValidator {

    /** One request and its answer, as sent and received on the wire. */
    public record Exchange(String method, String rawPath, String rawQuery, Map<String, List<String>> requestHeaders,
            byte[] requestBody, int status, Map<String, List<String>> responseHeaders, String responseBody) {

        public String describe() {
            return method + " " + rawPath + (rawQuery == null ? "" : "?" + rawQuery) + " -> " + status + " "
                    + (responseBody == null ? "" : abbreviate(responseBody, 300));
        }
    }

    private static final Map<String, ContractValidator> BY_SERVER = new ConcurrentHashMap<>();

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /**
     * Request findings that are not the server's business to refuse: a body on a GET or
     * DELETE is ignored, an empty optional parameter is the same as none,
     * {@code If-None-Match} is a list.
     */
    private static final Set<String> LENIENT_REQUEST = Set.of("validation.request.body.unexpected",
            "validation.request.parameter.missing");

    /**
     * What the validator says when a path or method is not in the document: checked by
     * hand instead.
     */
    private static final Set<String> NOT_IN_DOCUMENT = Set.of("validation.request.path.missing",
            "validation.request.operation.notAllowed", "validation.response.path.missing",
            "validation.response.operation.notAllowed");

    private final OpenApiInteractionValidator validator;

    private final JsonNode document;

    private ContractValidator(String json) {
        this.document = Api.JSON.readTree(json);
        this.validator = OpenApiInteractionValidator.createForInlineApiSpecification(json).build();
    }

    /**
     * The validator for the server at {@code base}. Fails (an {@link AssertionError}
     * saying why) when the server's document cannot be had: a check that silently checks
     * nothing is worse than none. A test that talks to a server without the document on
     * purpose (one that is starting, failing or gone) says so with
     * {@link Api#withoutContract(String)}.
     * <p>
     * The document is cached per server instance: {@link ServerProcess} and the test
     * application contexts {@link #forget} it when their server stops, so a later server
     * on a reused port is checked against its own document.
     */
    public static ContractValidator forServer(String base) {
        ContractValidator known = BY_SERVER.get(base);
        if (known != null) {
            return known;
        }
        String problem = "not fetched";
        // Up to three tries when the transfer itself fails: the document is ~280 KB, and
        // on
        // a loaded machine a test JVM that does not read it for the test server's 3 s
        // idle
        // timeout gets it cut off (seen: "fixed content-length: 282948, bytes received:
        // 32768"). An answer, whatever its status, is never retried.
        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                HttpResponse<String> response = CLIENT.send(HttpRequest.newBuilder(URI.create(base + "/v3/api-docs"))
                    .timeout(Duration.ofSeconds(30))
                    .GET()
                    .build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return BY_SERVER.computeIfAbsent(base, ignored -> new ContractValidator(response.body()));
                }
                problem = "it answered " + response.statusCode() + " " + abbreviate(response.body(), 300);
                break;
            }
            catch (IOException e) {
                problem = "it failed: " + e;
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problem = "interrupted";
                break;
            }
        }
        throw new AssertionError("Cannot hold this exchange to the contract: GET " + base + "/v3/api-docs: " + problem
                + ". A test that talks to a server without its document on purpose uses Api.withoutContract(base).");
    }

    /**
     * Drops the cached document of the server at {@code base}: it stopped, and the port
     * may be reused.
     */
    public static void forget(String base) {
        BY_SERVER.remove(base);
        Api.forgetServer(base);
    }

    private static boolean hasEmptyAcceptElement(Exchange exchange) {
        return exchange.requestHeaders()
            .entrySet()
            .stream()
            .filter(header -> header.getKey().equalsIgnoreCase("Accept"))
            .flatMap(header -> header.getValue().stream())
            .anyMatch(value -> java.util.Arrays.stream(value.split(",", -1)).anyMatch(String::isBlank));
    }

    /** The server's document, as served. */
    public JsonNode document() {
        return document;
    }

    /** Each way the exchange breaks the document (empty when it keeps it). */
    public List<String> violations(Exchange exchange, boolean checkRequest) {
        List<String> violations = new ArrayList<>();
        String path = exchange.rawPath();
        if (path.startsWith("/test/") || path.startsWith("/v3/api-docs")) {
            return violations; // test-only endpoints and the document itself are not part
                               // of the contract
        }
        boolean head = exchange.method().equalsIgnoreCase("HEAD");
        int before = violations.size();
        if (exchange.status() >= 400) {
            checkProblem(exchange, violations);
        }
        // Where the document has another body for an error status (health's 503), that
        // body is checked below.
        List<String> problemViolations = new ArrayList<>(violations.subList(before, violations.size()));
        boolean problemBody = isProblem(exchange);
        if (exchange.method().equalsIgnoreCase("OPTIONS") && exchange.status() == 200) {
            return violations; // the framework's answer with Allow, not an operation of
                               // the contract
        }
        // Methods are case-sensitive; a trailing slash or a ";name=value" path parameter
        // is another path
        // to Spring MVC (404), while the validator would match it to the operation.
        Request.Method method = exchange.method().equals(exchange.method().toUpperCase(Locale.ROOT))
                ? method(head ? "GET" : exchange.method()) : null;
        if (path.contains("//")) {
            method = null;
        }
        else if (path.length() > 1 && path.endsWith("/")) {
            if (exchange.status() < 400) {
                path = path.substring(0, path.length() - 1); // Actuator answers its paths
                                                             // with a trailing slash too
            }
            else {
                method = null;
            }
        }
        if (path.contains(";")) {
            path = path.substring(0, path.indexOf(';')); // the servlet container drops
                                                         // path parameters
        }
        boolean inDocument = method != null;
        if (method != null) {
            SimpleResponse.Builder response = SimpleResponse.Builder.status(exchange.status());
            exchange.responseHeaders().forEach((name, values) -> {
                if (!name.startsWith(":")) {
                    response.withHeader(name, values);
                }
            });
            if (exchange.responseBody() != null && !exchange.responseBody().isEmpty() && !head) {
                response.withBody(exchange.responseBody());
            }
            ValidationReport report;
            try {
                report = validator.validateResponse(path, method, response.build());
            }
            catch (RuntimeException e) {
                // A path the validator cannot even match (e.g. broken percent-encoding):
                // no operation of the
                // document, so the answer must be a problem (checked above) and not a
                // success (checked below).
                report = null;
                inDocument = false;
            }
            if (report != null) {
                for (ValidationReport.Message message : report.getMessages()) {
                    if (message.getLevel() != ValidationReport.Level.ERROR) {
                        continue;
                    }
                    if (NOT_IN_DOCUMENT.contains(message.getKey())) {
                        inDocument = false;
                    }
                    else if (!((head || isEventStream(exchange))
                            && message.getKey().equals("validation.response.body.missing"))) {
                        violations.add("response: " + message.getMessage() + details(message));
                    }
                }
            }
        }
        boolean validated = violations.size() == before + problemViolations.size();
        if (inDocument && !problemBody && exchange.status() >= 400 && validated) {
            // The document describes this error answer (it validated): it need not be a
            // problem.
            violations.removeAll(problemViolations);
        }
        if (!inDocument && exchange.status() < 400) {
            violations.add("a " + exchange.method() + " of a path or method the document does not have answered "
                    + exchange.status() + " (document it, or answer 404/405)");
        }
        if (inDocument && !head && (checkRequest || exchange.status() < 300)) {
            checkRequest(exchange, violations);
        }
        return violations;
    }

    /** How the request breaks the document (empty when the document allows it). */
    public List<String> requestViolations(Exchange exchange) {
        List<String> violations = new ArrayList<>();
        checkRequest(exchange, violations);
        return violations;
    }

    private void checkRequest(Exchange exchange, List<String> violations) {
        String path = exchange.rawPath().contains(";")
                ? exchange.rawPath().substring(0, exchange.rawPath().indexOf(';')) : exchange.rawPath();
        SimpleRequest.Builder request = new SimpleRequest.Builder(exchange.method().toUpperCase(Locale.ROOT), path,
                true);
        try {
            queryParameters(exchange.rawQuery()).forEach(request::withQueryParam);
        }
        catch (IllegalArgumentException e) {
            violations.add("request: the query cannot be decoded (" + e.getMessage() + ")");
            return;
        }
        exchange.requestHeaders().forEach(request::withHeader);
        if (exchange.requestBody() != null && exchange.requestBody().length > 0) {
            request.withBody(exchange.requestBody());
        }
        try {
            for (ValidationReport.Message message : validator.validateRequest(request.build()).getMessages()) {
                boolean noBody = exchange.requestBody() == null || exchange.requestBody().length == 0;
                // An answer without a body (204) makes Accept moot.
                // and the stream answers text/event-stream whatever Accept says
                // (EventSource always asks for it).
                boolean acceptMoot = (exchange.status() == 204 || isEventStream(exchange))
                        && message.getKey().startsWith("validation.request.accept.");
                // The validator reads a query or header integer as JSON, where 007 is no
                // number; in a query it is 7.
                boolean leadingZeros = message.getKey().endsWith("schema.invalidJson")
                        && message.getMessage().contains("Leading zeroes not allowed");
                if (acceptMoot || leadingZeros || LENIENT_REQUEST.contains(message.getKey())
                        || (message.getKey().equals("validation.request.parameter.collection.invalid")
                                && message.getMessage().contains("If-None-Match"))) {
                    continue;
                }
                if (noBody && message.getKey().startsWith("validation.request.contentType.")) {
                    // the validator types a body that is not there (an optional body left
                    // out); and
                    // without a body the server ignores Content-Type (docs/api.md)
                    continue;
                }
                if (message.getKey().equals("validation.request.accept.invalid") && hasEmptyAcceptElement(exchange)) {
                    continue; // empty elements of an Accept list are ignored, as HTTP
                              // says (docs/api.md)
                }
                if (message.getLevel() == ValidationReport.Level.ERROR) {
                    violations.add("request (the server answered " + exchange.status() + "): " + message.getMessage()
                            + details(message));
                }
            }
        }
        catch (RuntimeException e) {
            violations.add("the validator failed on the request: " + e);
        }
    }

    /**
     * Every 4xx/5xx is problem+json with type, title, status, detail, code and the
     * request's id.
     */
    private static void checkProblem(Exchange exchange, List<String> violations) {
        String contentType = first(exchange.responseHeaders(), "Content-Type");
        String requestId = first(exchange.responseHeaders(), "X-Request-Id");
        if (requestId == null) {
            violations.add("problem: no X-Request-Id header");
        }
        if (exchange.method().equalsIgnoreCase("HEAD")) {
            return;
        }
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("application/problem+json")) {
            violations.add("problem: Content-Type is " + contentType + ", not application/problem+json");
            return;
        }
        JsonNode problem;
        try {
            problem = Api.JSON.readTree(exchange.responseBody());
        }
        catch (RuntimeException e) {
            violations.add("problem: the body is not JSON");
            return;
        }
        for (String member : List.of("type", "title", "detail", "code", "requestId")) {
            if (!problem.path(member).isString() || problem.path(member).asString().isBlank()) {
                violations.add("problem: no string member '" + member + "'");
            }
        }
        if (problem.path("status").asInt(-1) != exchange.status()) {
            violations.add("problem: status member " + problem.path("status") + " is not the HTTP status");
        }
        if (!problem.path("type").asString("").equals("/problems/" + problem.path("code").asString(""))) {
            violations.add("problem: type " + problem.path("type") + " is not /problems/<code>");
        }
        if (requestId != null && !requestId.equals(problem.path("requestId").asString(""))) {
            violations.add("problem: requestId " + problem.path("requestId") + " is not the X-Request-Id " + requestId);
        }
    }

    /**
     * Throws when the exchange breaks the document, with every violation and the
     * exchange.
     */
    public void assertKept(Exchange exchange, boolean checkRequest) {
        List<String> violations = violations(exchange, checkRequest);
        if (!violations.isEmpty()) {
            throw new AssertionError("The exchange breaks the OpenAPI document (/v3/api-docs):\n  "
                    + String.join("\n  ", violations) + "\nexchange: " + exchange.describe());
        }
    }

    /** Decodes a raw query; {@link IllegalArgumentException} for bad percent-encoding. */
    static Map<String, List<String>> queryParameters(String rawQuery) {
        Map<String, List<String>> parameters = new LinkedHashMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return parameters;
        }
        for (String pair : rawQuery.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int equals = pair.indexOf('=');
            String name = URLDecoder.decode(equals < 0 ? pair : pair.substring(0, equals), StandardCharsets.UTF_8);
            String value = equals < 0 ? "" : URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
            parameters.computeIfAbsent(name, ignored -> new ArrayList<>()).add(value);
        }
        return parameters;
    }

    /**
     * A stream's body is not read at connect time: its status and headers are what is
     * checked.
     */
    private static boolean isEventStream(Exchange exchange) {
        String contentType = first(exchange.responseHeaders(), "Content-Type");
        return contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith("text/event-stream");
    }

    private static boolean isProblem(Exchange exchange) {
        String contentType = first(exchange.responseHeaders(), "Content-Type");
        return contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith("application/problem+json");
    }

    private static Request.Method method(String name) {
        try {
            return Request.Method.valueOf(name.toUpperCase(Locale.ROOT));
        }
        catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String first(Map<String, List<String>> headers, String name) {
        for (Map.Entry<String, List<String>> header : headers.entrySet()) {
            if (header.getKey().equalsIgnoreCase(name) && !header.getValue().isEmpty()) {
                return header.getValue().getFirst();
            }
        }
        return null;
    }

    private static String details(ValidationReport.Message message) {
        List<String> more = new ArrayList<>(message.getAdditionalInfo());
        message.getNestedMessages().forEach(nested -> more.add(nested.getMessage()));
        return more.isEmpty() ? "" : " " + more;
    }

    static String abbreviate(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max) + "…(" + text.length() + " chars)";
    }

}
