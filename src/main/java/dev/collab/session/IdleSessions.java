package dev.collab.session;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.UUID;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.SchedulingConfigurer;
import org.springframework.scheduling.config.ScheduledTaskRegistrar;
import org.springframework.stereotype.Component;

/**
 * Retention ({@code collab.session.end-idle-after}): sessions IDLE with no activity for
 * longer than that are ended through the normal path, so each gets its
 * {@code session.ended} and its workspace is removed. Every instance checks; the
 * conditional end makes a race harmless (one ends the session, the other finds it no
 * longer idle).
 */
@Component
class IdleSessions implements SchedulingConfigurer {

    private static final Logger log = LoggerFactory.getLogger(IdleSessions.class);

    private final JdbcClient jdbc;

    private final Sessions sessions;

    private final SessionProperties properties;

    private final Clock clock;

    IdleSessions(JdbcClient jdbc, Sessions sessions, SessionProperties properties, Clock clock) {
        this.jdbc = jdbc;
        this.sessions = sessions;
        this.properties = properties;
        this.clock = clock;
    }

    @Override
    public void configureTasks(ScheduledTaskRegistrar registrar) {
        if (properties.endIdleAfter() != null) {
            registrar.addFixedDelayTask(this::endIdleSessions, properties.idleCheckInterval());
        }
    }

    /**
     * Ends at most a batch of sessions idle since before the cutoff, oldest activity
     * first; returns how many.
     */
    @SuppressWarnings("NullAway") // a single-column query's rows are @Nullable to Spring;
                                  // sessions.id is the primary key
    int endIdleSessions() {
        Instant cutoff = clock.instant().minus(properties.endIdleAfter());
        try {
            var idle = jdbc.sql("""
                    select id from sessions where state = 'IDLE' and last_activity_at < :cutoff
                    order by last_activity_at limit :limit""")
                .param("cutoff", cutoff.atOffset(ZoneOffset.UTC))
                .param("limit", properties.idleEndBatch())
                .query(UUID.class)
                .list();
            int ended = 0;
            for (UUID id : idle) {
                if (sessions.endIfIdleSince(id, cutoff)) {
                    ended++;
                }
            }
            if (ended > 0) {
                log.info("Ended {} sessions idle for more than {}", ended, properties.endIdleAfter());
            }
            return ended;
        }
        catch (RuntimeException e) {
            // The next check tries again; a database blip is not a reason to stop
            // retention.
            log.warn("Could not end idle sessions: {}", e.toString());
            return 0;
        }
    }

}
