package dev.collab.message;

import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Idempotency keys are kept 24 hours (docs/api.md): a client retries within minutes, and
 * a table that only grows slows every send's key claim. Every instance purges; the delete
 * is idempotent.
 */
@Component
class IdempotencyKeyPurge {

    private static final Logger log = LoggerFactory.getLogger(IdempotencyKeyPurge.class);

    private final JdbcClient jdbc;

    IdempotencyKeyPurge(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * At most this many keys per statement: each delete is a short transaction, so a
     * large backlog never holds locks (or the scheduler's shared thread) for long at
     * once.
     */
    static final int BATCH = 1_000;

    /**
     * Batches per run: a backlog larger than this is purged over the next runs, so one
     * run never occupies the scheduler's shared thread for long.
     */
    static final int MAX_BATCHES = 100;

    @Scheduled(initialDelay = 10, fixedDelay = 60, timeUnit = TimeUnit.MINUTES)
    void purge() {
        try {
            int purged = 0;
            for (int batch = 0; batch < MAX_BATCHES; batch++) {
                int deleted = jdbc.sql("""
                        delete from idempotency_keys
                        where ctid = any(array(select ctid from idempotency_keys
                                               where created_at < now() - interval '24 hours'
                                               limit :batch))
                        """).param("batch", BATCH).update();
                purged += deleted;
                if (deleted < BATCH) {
                    break;
                }
            }
            log.debug("Purged {} idempotency keys older than 24 hours", purged);
        }
        catch (RuntimeException e) {
            log.warn("Could not purge old idempotency keys: {}", e.toString());
        }
    }

}
