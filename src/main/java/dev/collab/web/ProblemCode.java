package dev.collab.web;

import org.springframework.http.HttpStatus;

/**
 * Every problem the API answers with: its {@code code} slug, HTTP status and title. The
 * type URI of a problem is {@code /problems/<code>} (docs/api.md).
 */
public enum ProblemCode {

    VALIDATION_FAILED("validation-failed", HttpStatus.BAD_REQUEST, "Validation failed"),
    MALFORMED_REQUEST("malformed-request", HttpStatus.BAD_REQUEST, "Malformed request"),
    /**
     * No credentials, or bad ones: an expired or revoked token, a disabled user, an ended
     * session.
     */
    UNAUTHENTICATED("unauthenticated", HttpStatus.UNAUTHORIZED, "Unauthenticated"),
    /** A login with a wrong login or password (the same answer for both). */
    INVALID_CREDENTIALS("invalid-credentials", HttpStatus.UNAUTHORIZED, "Invalid credentials"),
    /** A user whose role does not allow the action. */
    FORBIDDEN("forbidden", HttpStatus.FORBIDDEN, "Forbidden"),
    /**
     * A cookie-authenticated write without a matching X-XSRF-TOKEN, or from a foreign
     * Origin.
     */
    CSRF_FAILED("csrf-failed", HttpStatus.FORBIDDEN, "CSRF check failed"),
    NOT_FOUND("not-found", HttpStatus.NOT_FOUND, "Not found"),
    METHOD_NOT_ALLOWED("method-not-allowed", HttpStatus.METHOD_NOT_ALLOWED, "Method not allowed"),
    NOT_ACCEPTABLE("not-acceptable", HttpStatus.NOT_ACCEPTABLE, "Not acceptable"),
    PROJECT_EXISTS("project-exists", HttpStatus.CONFLICT, "Project exists"),
    /** The change would leave a project without an admin. */
    LAST_ADMIN("last-admin", HttpStatus.CONFLICT, "Last admin"),
    SESSION_BUSY("session-busy", HttpStatus.CONFLICT, "Session busy"),
    SESSION_ENDED("session-ended", HttpStatus.CONFLICT, "Session ended"),
    /**
     * A send to a busy session whose queue holds {@code collab.messages.max-queued}
     * messages already.
     */
    QUEUE_FULL("queue-full", HttpStatus.CONFLICT, "Queue full"),
    /** A queued message that started its run or was cancelled already. */
    MESSAGE_NOT_QUEUED("message-not-queued", HttpStatus.CONFLICT, "Message not queued"),
    /**
     * An agent's request for permission that has its decision already (a person's, a
     * timeout's, or its run's end).
     */
    APPROVAL_DECIDED("approval-decided", HttpStatus.CONFLICT, "Approval decided"),
    IDEMPOTENCY_KEY_REUSED("idempotency-key-reused", HttpStatus.UNPROCESSABLE_CONTENT, "Idempotency key reused"),
    PAYLOAD_TOO_LARGE("payload-too-large", HttpStatus.CONTENT_TOO_LARGE, "Payload too large"),
    /** Login throttled; Retry-After says when to try again. */
    TOO_MANY_ATTEMPTS("too-many-attempts", HttpStatus.TOO_MANY_REQUESTS, "Too many attempts"),
    SHUTTING_DOWN("shutting-down", HttpStatus.SERVICE_UNAVAILABLE, "Shutting down"),
    SERVICE_UNAVAILABLE("service-unavailable", HttpStatus.SERVICE_UNAVAILABLE, "Service unavailable"),
    /**
     * The database answers, but no pooled connection (or no turn to read) became free in
     * time.
     */
    DATABASE_BUSY("database-busy", HttpStatus.SERVICE_UNAVAILABLE, "Database busy"),
    /**
     * A session's diff took longer than collab.workspace.git.diff-timeout; Retry-After
     * says when to try again.
     */
    DIFF_TIMEOUT("diff-timeout", HttpStatus.SERVICE_UNAVAILABLE, "Diff timeout"),
    INTERNAL_ERROR("internal-error", HttpStatus.INTERNAL_SERVER_ERROR, "Internal error");

    private final String slug;

    private final HttpStatus status;

    private final String title;

    ProblemCode(String slug, HttpStatus status, String title) {
        this.slug = slug;
        this.status = status;
        this.title = title;
    }

    public String slug() {
        return slug;
    }

    public HttpStatus status() {
        return status;
    }

    public String title() {
        return title;
    }

    /**
     * The code for a status that reached us without one (framework errors, the error
     * page).
     */
    static ProblemCode forStatus(int status) {
        return switch (status) {
            case 400 -> MALFORMED_REQUEST;
            case 401 -> UNAUTHENTICATED;
            case 403 -> FORBIDDEN;
            case 404 -> NOT_FOUND;
            case 405 -> METHOD_NOT_ALLOWED;
            case 406 -> NOT_ACCEPTABLE;
            case 413 -> PAYLOAD_TOO_LARGE;
            case 415 -> MALFORMED_REQUEST;
            case 503 -> SERVICE_UNAVAILABLE;
            default -> status >= 500 ? INTERNAL_ERROR : MALFORMED_REQUEST;
        };
    }

}
