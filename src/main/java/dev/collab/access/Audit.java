package dev.collab.access;

import java.time.Clock;
import java.time.ZoneOffset;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;
import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.stereotype.Component;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes the audit log ({@code audit_log}): who did what to what, with the request id and
 * the client address of the request it happened in. Call it inside the transaction of the
 * change, so a change and its audit row commit together. Details must never hold a secret
 * (no passwords, tokens or their hashes).
 */
@Component
public class Audit {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final JdbcClient jdbc;

    private final Clock clock;

    Audit(JdbcClient jdbc, Clock clock) {
        this.jdbc = jdbc;
        this.clock = clock;
    }

    /**
     * An action of the caller of the current request, e.g.
     * {@code record("token.created", "token:<id>", Map.of())}.
     */
    public void record(String action, String target, Map<String, ?> details) {
        var authentication = SecurityContextHolder.getContext().getAuthentication();
        @Nullable String actor = authentication != null && authentication.getPrincipal() instanceof CurrentUser user
                ? user.login() : null;
        record(actor, action, target, details);
    }

    /**
     * An action with an explicit actor (null: nobody authenticated, such as a failed
     * login).
     */
    public void record(@Nullable String actor, String action, String target, Map<String, ?> details) {
        @Nullable HttpServletRequest request = RequestContextHolder
            .getRequestAttributes() instanceof ServletRequestAttributes servlet ? servlet.getRequest() : null;
        jdbc.sql("""
                insert into audit_log (at, actor, action, target, request_id, address, details)
                values (:at, :actor, :action, :target, :requestId, :address, cast(:details as jsonb))
                """)
            .param("at", clock.instant().atOffset(ZoneOffset.UTC))
            .param("actor", actor)
            .param("action", action)
            .param("target", target)
            .param("requestId", MDC.get("requestId"))
            .param("address", request == null ? null : ClientAddress.of(request))
            .param("details", details == null || details.isEmpty() ? null : JSON.writeValueAsString(details))
            .update();
    }

}
