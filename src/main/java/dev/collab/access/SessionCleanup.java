package dev.collab.access;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.session.jdbc.JdbcIndexedSessionRepository;
import org.springframework.stereotype.Component;

/**
 * Deletes expired browser sessions once a minute (on every replica: an indexed delete).
 * Instead of Spring Session's own cron job
 * ({@code spring.session.jdbc.cleanup-cron: "-"}), which logs an ERROR with a stack trace
 * for every run while the database is unreachable; here that is one WARN.
 */
@Component
class SessionCleanup {

    private static final Logger log = LoggerFactory.getLogger(SessionCleanup.class);

    private final JdbcIndexedSessionRepository sessions;

    SessionCleanup(JdbcIndexedSessionRepository sessions) {
        this.sessions = sessions;
    }

    @Scheduled(fixedDelay = 1, initialDelay = 1, timeUnit = java.util.concurrent.TimeUnit.MINUTES)
    void deleteExpired() {
        try {
            sessions.cleanUpExpiredSessions();
        }
        catch (RuntimeException e) {
            log.warn("Expired-session cleanup failed: {}", e.toString());
        }
    }

}
