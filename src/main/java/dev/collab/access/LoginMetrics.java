package dev.collab.access;

import java.util.List;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.stereotype.Component;

/**
 * {@code collab_auth_logins_total{outcome}}: password and OIDC logins, by outcome
 * ({@code succeeded}, {@code failed}, {@code throttled}), all three from the start (0),
 * so an alert on failures never waits for the first one. A personal access token is not a
 * login and is not counted; no login name is ever a tag.
 */
@Component
class LoginMetrics {

    private final Counter succeeded;

    private final Counter failed;

    private final Counter throttled;

    LoginMetrics(MeterRegistry registry) {
        List<Counter> counters = java.util.stream.Stream.of("succeeded", "failed", "throttled")
            .map(outcome -> Counter.builder("collab.auth.logins")
                .description("Password and OIDC logins, by outcome")
                .tag("outcome", outcome)
                .register(registry))
            .toList();
        this.succeeded = counters.get(0);
        this.failed = counters.get(1);
        this.throttled = counters.get(2);
    }

    /** A login that set a session. */
    void succeeded() {
        succeeded.increment();
    }

    /**
     * A login refused for its credentials: an unknown login, a wrong password, a disabled
     * user, an OIDC identity refused (disabled, not an allowed domain) or a failed
     * callback.
     */
    void failed() {
        failed.increment();
    }

    /** A password login refused by the throttle before its password was checked. */
    void throttled() {
        throttled.increment();
    }

}
