package dev.collab.session;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Incident 5 (slow session lists): on a table of 100,000 sessions the list query, in
 * every variant the API sends, is an index scan in the wanted order: no Sort node, no
 * full scan.
 */
@IntegrationTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionListIndexTest {

    private static final int PROJECTS = 100;

    private static final int SESSIONS = 100_000;

    @Autowired
    JdbcClient jdbc;

    String prefix;

    @BeforeAll
    void seed() {
        prefix = "idx" + Long.toString(System.nanoTime(), 36);
        jdbc.sql("""
                insert into projects (key, name, created_at)
                select :prefix || '-' || p, 'Project ' || p, now() from generate_series(0, :projects - 1) p
                """).param("prefix", prefix).param("projects", PROJECTS).update();
        jdbc.sql("""
                insert into sessions (id, project_key, title, state, created_at, last_activity_at, head_seq)
                select gen_random_uuid(), :prefix || '-' || (n % :projects), 'session ' || n,
                       (array['IDLE','RUNNING','ENDED'])[1 + n % 3],
                       now() - make_interval(secs => n), now() - make_interval(secs => (n * 7919) % 86400), n % 50
                from generate_series(1, :sessions) n
                """).param("prefix", prefix).param("projects", PROJECTS).param("sessions", SESSIONS).update();
        jdbc.sql("analyze sessions").update();
    }

    private String plan(boolean byState, boolean afterCursor) {
        String sql = "explain " + Sessions.pageSql(byState, afterCursor, 51);
        var statement = jdbc.sql(sql).param("project", prefix + "-7");
        if (byState) {
            statement = statement.param("state", "IDLE");
        }
        if (afterCursor) {
            statement = statement.param("afterAt", OffsetDateTime.now(ZoneOffset.UTC).minusHours(12))
                .param("afterId", UUID.randomUUID());
        }
        return String.join("\n", statement.query(String.class).list());
    }

    @Test
    void firstPageIsAnIndexScanWithoutSort() {
        String plan = plan(false, false);
        assertThat(plan).contains("Index Scan using sessions_project_activity_idx").doesNotContain("Sort", "Seq Scan");
    }

    @Test
    void keysetPageSeeksInTheIndex() {
        String plan = plan(false, true);
        assertThat(plan).contains("Index Scan using sessions_project_activity_idx")
            .contains("Index Cond")
            .contains("ROW(last_activity_at, id) <")
            .doesNotContain("Sort", "Seq Scan");
    }

    @Test
    void stateFilterUsesItsOwnIndex() {
        assertThat(plan(true, false)).contains("Index Scan using sessions_project_state_activity_idx")
            .doesNotContain("Sort", "Seq Scan");
        assertThat(plan(true, true)).contains("Index Scan using sessions_project_state_activity_idx")
            .doesNotContain("Sort", "Seq Scan");
    }

}
