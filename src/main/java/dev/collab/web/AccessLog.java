package dev.collab.web;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * The access log: one line per completed HTTP request, from the logger
 * {@code dev.collab.web.access} (so operators can raise or silence it on its own), with
 * the request id in the log context and the method, path, status and duration as
 * key/value pairs (fields of their own in JSON logs). The path never carries the query
 * string, so tokens in a query stay out of the logs. Actuator requests (probes arrive
 * every few seconds) are logged at DEBUG, everything else at INFO.
 */
@Component
class AccessLog {

    static final String LOGGER = "dev.collab.web.access";

    private static final Logger log = LoggerFactory.getLogger(LOGGER);

    private final String actuator;

    /**
     * @param actuatorBasePath {@code management.endpoints.web.base-path},
     * {@code /actuator} by default
     */
    AccessLog(@Value("${management.endpoints.web.base-path:/actuator}") String actuatorBasePath) {
        String base = actuatorBasePath == null || actuatorBasePath.isBlank() ? "/actuator" : actuatorBasePath;
        this.actuator = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    }

    void completed(@Nullable String requestId, @Nullable String method, @Nullable String path, int status,
            long durationMillis) {
        completed(requestId, method, path, status, durationMillis, null);
    }

    /**
     * {@code method} and {@code path} are null for a request too malformed to have them;
     * {@code reason} says why the web server rejected a request (null otherwise).
     */
    void completed(@Nullable String requestId, @Nullable String method, @Nullable String rawPath, int status,
            long durationMillis, @Nullable String reason) {
        String path = withoutPathParameters(rawPath);
        Level level = isActuator(path) ? Level.DEBUG : Level.INFO;
        if (!log.isEnabledForLevel(level)) {
            return;
        }
        String previous = MDC.get(RequestIdFilter.MDC_KEY);
        if (requestId != null) {
            MDC.put(RequestIdFilter.MDC_KEY, requestId);
        }
        try {
            LoggingEventBuilder line = log.atLevel(level);
            if (method != null) {
                line = line.addKeyValue("method", method);
            }
            if (path != null) {
                line = line.addKeyValue("path", path);
            }
            line = line.addKeyValue("status", status).addKeyValue("durationMs", durationMillis);
            String shown = (method == null ? "-" : method) + " " + (path == null ? "-" : path) + " " + status + " "
                    + durationMillis + " ms";
            if (reason == null) {
                line.log(shown);
            }
            else {
                line.addKeyValue("reason", reason).log(shown + " (" + reason + ")");
            }
        }
        finally {
            if (previous == null) {
                MDC.remove(RequestIdFilter.MDC_KEY);
            }
            else {
                MDC.put(RequestIdFilter.MDC_KEY, previous);
            }
        }
    }

    /**
     * Path parameters ({@code /a;token=…/b}) are dropped like the query string: they can
     * carry credentials (a {@code jsessionid}, a signed token) and identify no resource
     * here.
     */
    static @Nullable String withoutPathParameters(@Nullable String path) {
        return path == null || path.indexOf(';') < 0 ? path : PATH_PARAMETER.matcher(path).replaceAll("");
    }

    private static final java.util.regex.Pattern PATH_PARAMETER = java.util.regex.Pattern.compile(";[^/]*");

    private boolean isActuator(@Nullable String path) {
        return path != null && (path.equals(actuator) || path.startsWith(actuator + "/"));
    }

}
