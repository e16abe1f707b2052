package dev.collab.message;

import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The purge removes every key older than 24 hours, in bounded batches (more keys than one
 * batch here), and keeps the younger ones. Called directly: its schedule is hours.
 */
@IntegrationTest
class IdempotencyKeyPurgeTest {

    @Autowired
    Api api;

    @Autowired
    JdbcClient jdbc;

    @Autowired
    IdempotencyKeyPurge purge;

    @Test
    void purgesOldKeysInBatchesAndKeepsYoungOnes() {
        UUID session = api.newSession(api.newProject("purge"));
        int old = IdempotencyKeyPurge.BATCH * 2 + 17;
        jdbc.sql("""
                insert into idempotency_keys (session_id, key, fingerprint, created_at)
                select :session, 'old-' || n, 'f', now() - interval '25 hours' from generate_series(1, :old) n
                """).param("session", session).param("old", old).update();
        jdbc.sql("""
                insert into idempotency_keys (session_id, key, fingerprint, created_at)
                select :session, 'young-' || n, 'f', now() - interval '23 hours' from generate_series(1, 3) n
                """).param("session", session).update();

        purge.purge();

        assertThat(jdbc.sql("select key from idempotency_keys where session_id = :session order by key")
            .param("session", session)
            .query(String.class)
            .list()).containsExactly("young-1", "young-2", "young-3");
    }

}
