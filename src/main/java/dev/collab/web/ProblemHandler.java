package dev.collab.web;

import java.nio.charset.CharacterCodingException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import jakarta.servlet.http.HttpServletRequest;
import org.eclipse.jetty.http.HttpException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.TypeMismatchException;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.jdbc.support.SQLExceptionSubclassTranslator;
import org.springframework.jdbc.support.SQLExceptionTranslator;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.transaction.TransactionSystemException;
import org.springframework.util.InvalidMimeTypeException;
import org.springframework.validation.BindingResult;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.MissingRequestHeaderException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.ServletWebRequest;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.HandlerMethodValidationException;
import org.springframework.web.servlet.NoHandlerFoundException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import org.springframework.web.servlet.resource.NoResourceFoundException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DatabindException;

/**
 * Renders every exception that leaves a controller as problem+json with a {@code code}:
 * the web layer's {@link ApiException}s for requests of the wrong shape, Spring MVC's own
 * (bad JSON, wrong method, unknown path…), the database's failures (a retryable 503) and
 * anything unexpected, which is logged with the request id the body carries. The
 * features' own exceptions (unknown project or session, busy, ended…) are answered by
 * each feature's advice (such as {@code session.SessionProblems}), which comes first:
 * this module depends on no feature, and this advice, last in order, is the catch-all.
 * Bodies never contain stack traces, SQL, class names or file paths.
 */
@RestControllerAdvice
@Order(Ordered.LOWEST_PRECEDENCE)
class ProblemHandler extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

    /**
     * Translates raw {@link SQLException}s as JdbcTemplate does (subclass, then SQL state
     * class).
     */
    private static final SQLExceptionTranslator TRANSLATOR = new SQLExceptionSubclassTranslator();

    /**
     * Hikari's message for a pool that had no connection free in time (see
     * {@link #isDatabaseBusy}).
     */
    private static final String HIKARI_POOL_TIMEOUT = "Connection is not available, request timed out";

    /**
     * Hikari's message for a pooled connection used after it was closed (see
     * {@link #isClosedPooledConnection}).
     */
    private static final String HIKARI_CLOSED_CONNECTION = "Connection is closed";

    private final DatabaseFailures databaseFailures;

    ProblemHandler(DatabaseFailures databaseFailures) {
        this.databaseFailures = databaseFailures;
    }

    @ExceptionHandler(ApiException.class)
    ResponseEntity<Object> api(ApiException exception, HttpServletRequest request) {
        return Problems.response(Problems.of(exception, request));
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<Object> unexpected(Exception exception, HttpServletRequest request) {
        ProblemDetail clientError = clientError(exception, request);
        if (clientError != null) {
            return Problems.response(clientError);
        }
        if (isUnknownHealthPath(exception, request)) {
            return Problems.response(Problems.of(ProblemCode.NOT_FOUND,
                    "No such resource: " + request.getMethod() + " " + request.getRequestURI(), request));
        }
        if (databaseFailures.busy(exception)) {
            // Counted by hikaricp_connections_timeout_total (or
            // collab_stream_reads_queue_timeouts_total).
            return retryLater("Database busy", ProblemCode.DATABASE_BUSY,
                    "The database is busy right now (no connection became free in time); retry shortly.", "1",
                    exception, request);
        }
        if (databaseFailures.unavailable(exception)) {
            return retryLater("Database unavailable", ProblemCode.SERVICE_UNAVAILABLE,
                    "The database is not reachable right now; retry shortly.", "5", exception, request);
        }
        ProblemDetail problem = Problems.of(ProblemCode.INTERNAL_ERROR,
                "Something went wrong on our side; quote the requestId when reporting it.", request);
        log.error("Unexpected error serving {} {} (requestId {})", request.getMethod(), request.getRequestURI(),
                problem.getProperties() == null ? null : problem.getProperties().get("requestId"), exception);
        return Problems.response(problem);
    }

    /**
     * A 503 the client may retry after {@code retryAfterSeconds}; a WARN line, not an
     * ERROR: nothing is broken here.
     */
    private static ResponseEntity<Object> retryLater(String what, ProblemCode code, String detail,
            String retryAfterSeconds, Exception exception, HttpServletRequest request) {
        log.warn("{} while serving {} {}: {}", what, request.getMethod(), request.getRequestURI(),
                exception.getMessage());
        ProblemDetail problem = Problems.of(code, detail, request);
        return ResponseEntity.status(problem.getStatus())
            .header(HttpHeaders.RETRY_AFTER, retryAfterSeconds)
            .contentType(Problems.PROBLEM_JSON)
            .body(problem);
    }

    /**
     * The problem for a failure that is the client's doing although it did not come as
     * one of Spring MVC's own exceptions: Jetty rejecting what it was asked to decode (a
     * query string or form body that is not percent-encoded UTF-8) or a body that could
     * not be read. Null for anything else.
     */
    static @Nullable ProblemDetail clientError(Throwable failure, HttpServletRequest request) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof HttpMessageNotReadableException unreadable) {
                return unreadable(unreadable, request);
            }
            if (t instanceof InvalidMimeTypeException || t instanceof InvalidMediaTypeException) {
                // Actuator parses Accept itself (an element such as a/b/c); Spring MVC's
                // own
                // negotiation already answers 406 for what it cannot read.
                return Problems.of(ProblemCode.MALFORMED_REQUEST,
                        "A media type in the request's headers (Accept, Content-Type) is not valid.", request);
            }
            if (t instanceof HttpException http && http.getCode() >= 400 && http.getCode() < 500) {
                return Problems.of(ProblemCode.forStatus(http.getCode()),
                        "The request could not be decoded: the query string (or form body) must be percent-encoded UTF-8.",
                        request);
            }
        }
        return null;
    }

    /**
     * Spring Boot 4.1's health endpoint fails an assertion, instead of answering 404, for
     * a path below a component that does not exist
     * ({@code /actuator/health/nope/deeper}): an unknown resource, not a fault of ours.
     */
    private static boolean isUnknownHealthPath(Exception exception, HttpServletRequest request) {
        return exception instanceof IllegalStateException && request.getRequestURI().contains("/health/")
                && "'contributor' must not be null".equals(exception.getMessage());
    }

    /**
     * An exhausted pool, not an unreachable database: Hikari's timeout without a
     * connection failure behind it (when the database cannot be reached, Hikari gives the
     * last connection failure as the cause and its SQL state), or a feature's own read
     * queue that did not give a turn in time.
     */
    static boolean isDatabaseBusy(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof DatabaseBusyException) {
                return true;
            }
            // Spring wraps both kinds of pool timeout in the same
            // CannotGetJdbcConnectionException:
            // only Hikari's own exception tells them apart (no cause, no SQL state, this
            // message).
            if (t instanceof SQLTransientConnectionException timeout && timeout.getCause() == null
                    && timeout.getSQLState() == null && timeout.getMessage() != null
                    && timeout.getMessage().contains(HIKARI_POOL_TIMEOUT)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A failure to reach the database, however Spring wrapped it (no connection from the
     * pool, no transaction could begin, the connection broke): the client may retry, so
     * 503.
     */
    static boolean isDatabaseUnavailable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (isUnavailable(t)) {
                return true;
            }
            // Raw JDBC (the streams' dedicated connections, a commit outside a template):
            // the same
            // translation JdbcTemplate applies, so a lost connection (class 08) or a
            // server shutting
            // down (57P0x) reads the same whichever way it came.
            if (t instanceof SQLException sql
                    && (isUnavailable(TRANSLATOR.translate("", null, sql)) || isClosedPooledConnection(sql))) {
                return true;
            }
            // A rollback that failed on a dead connection hides the failure that caused
            // it.
            if (t instanceof TransactionSystemException system && system.getApplicationException() != null
                    && system.getApplicationException() != failure
                    && isDatabaseUnavailable(system.getApplicationException())) {
                return true;
            }
        }
        return false;
    }

    @Override
    protected ResponseEntity<Object> handleExceptionInternal(Exception exception, @Nullable Object body,
            HttpHeaders headers, HttpStatusCode statusCode, WebRequest webRequest) {
        HttpServletRequest request = webRequest instanceof ServletWebRequest servlet ? servlet.getRequest() : null;
        ProblemDetail problem = switch (exception) {
            case MethodArgumentNotValidException invalid -> invalidBody(invalid.getBindingResult(), request);
            case HandlerMethodValidationException invalid ->
                Problems.of(ApiException.invalid(invalid.getParameterValidationResults()
                    .stream()
                    .flatMap(result -> result.getResolvableErrors()
                        .stream()
                        .map(error -> new ApiException.FieldProblem(result.getMethodParameter().getParameterName(),
                                error.getDefaultMessage())))
                    .toList()), request);
            case TypeMismatchException mismatch -> Problems
                .of(ApiException.invalid(mismatch.getPropertyName() == null ? "value" : mismatch.getPropertyName(),
                        "must be " + describeType(mismatch.getRequiredType())), request);
            case MissingServletRequestParameterException missing ->
                Problems.of(ApiException.invalid(missing.getParameterName(), "is required"), request);
            case MissingRequestHeaderException missing ->
                Problems.of(ApiException.invalid(missing.getHeaderName(), "header is required"), request);
            case HttpMessageNotReadableException unreadable -> unreadable(unreadable, request);
            case HttpMediaTypeNotSupportedException unsupported -> Problems.of(ProblemCode.MALFORMED_REQUEST,
                    "Content-Type " + (unsupported.getContentType() == null ? "(none)" : unsupported.getContentType())
                            + " is not supported here; send application/json.",
                    request);
            case HttpRequestMethodNotSupportedException method -> Problems.of(ProblemCode.METHOD_NOT_ALLOWED,
                    "Method " + method.getMethod() + " is not supported here.", request);
            case NoResourceFoundException notFound -> Problems.of(ProblemCode.NOT_FOUND,
                    "No such resource: " + notFound.getHttpMethod() + " /" + notFound.getResourcePath(), request);
            case NoHandlerFoundException notFound -> Problems.of(ProblemCode.NOT_FOUND,
                    "No such resource: " + notFound.getHttpMethod() + " " + notFound.getRequestURL(), request);
            default -> Problems.of(ProblemCode.forStatus(statusCode.value()), null, request);
        };
        return ResponseEntity.status(problem.getStatus())
            .headers(headers)
            .contentType(Problems.PROBLEM_JSON)
            .body(problem);
    }

    /**
     * Spring's data-access exceptions that mean "the database cannot be used right now":
     * no connection ({@link CannotGetJdbcConnectionException}, a
     * {@link DataAccessResourceFailureException}), PostgreSQL's class 08 and 57P0x
     * ({@link DataAccessResourceFailureException}), transient failures
     * ({@link TransientDataAccessException}), or no transaction could begin.
     */
    private static boolean isUnavailable(@Nullable Throwable t) {
        return t instanceof DataAccessResourceFailureException || t instanceof TransientDataAccessException
                || t instanceof CannotCreateTransactionException;
    }

    /**
     * A pooled connection used after Hikari closed it (its connection broke): Hikari sets
     * no SQL state, so Spring's translation has no type for it and only the message
     * tells.
     */
    private static boolean isClosedPooledConnection(SQLException sql) {
        return sql.getSQLState() == null && HIKARI_CLOSED_CONNECTION.equals(sql.getMessage());
    }

    private static ProblemDetail invalidBody(BindingResult result, @Nullable HttpServletRequest request) {
        List<ApiException.FieldProblem> errors = new ArrayList<>();
        result.getFieldErrors()
            .forEach(error -> errors.add(new ApiException.FieldProblem(error.getField(), error.getDefaultMessage())));
        result.getGlobalErrors()
            .forEach(error -> errors
                .add(new ApiException.FieldProblem(error.getObjectName(), error.getDefaultMessage())));
        return Problems.of(ApiException.invalid(errors), request);
    }

    private static ProblemDetail unreadable(HttpMessageNotReadableException exception,
            @Nullable HttpServletRequest request) {
        for (Throwable cause = exception; cause != null; cause = cause.getCause()) {
            if (cause instanceof PayloadTooLargeException tooLarge) {
                return Problems.of(ProblemCode.PAYLOAD_TOO_LARGE, tooLarge.getMessage(), request);
            }
        }
        String detail = "The request body is missing or is not valid JSON.";
        if (exception.getCause() instanceof CharacterCodingException) {
            return Problems.of(ProblemCode.MALFORMED_REQUEST, exception.getMessage(), request);
        }
        if (exception.getCause() instanceof StrictJsonConfiguration.InvalidTextException invalid) {
            // Well-formed JSON whose string breaks a Text rule (U+0000, a lone
            // surrogate): a value's rule.
            return Problems.of(ApiException.invalid(field(invalid), invalid.problem()), request);
        }
        if (exception.getCause() instanceof DatabindException databind && !databind.getPath().isEmpty()) {
            String field = field(databind);
            detail = "The value of '" + field + "' has the wrong type or is not one of the allowed values.";
        }
        else if (exception.getCause() instanceof JacksonException) {
            detail = "The request body is not valid JSON.";
        }
        return Problems.of(ProblemCode.MALFORMED_REQUEST, detail, request);
    }

    /**
     * The JSON path of the member that failed, such as {@code name} or
     * {@code items[2].text}.
     */
    private static String field(DatabindException databind) {
        return databind.getPath()
            .stream()
            .map(ref -> ref.getPropertyName() != null ? ref.getPropertyName() : "[" + ref.getIndex() + "]")
            .reduce((a, b) -> b.startsWith("[") ? a + b : a + "." + b)
            .orElse("body");
    }

    private static String describeType(@Nullable Class<?> type) {
        if (type == null) {
            return "a valid value";
        }
        if (type == UUID.class) {
            return "a UUID";
        }
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "a whole number";
        }
        if (type.isEnum()) {
            return "one of " + java.util.Arrays.toString(type.getEnumConstants());
        }
        return "a valid " + type.getSimpleName();
    }

}
