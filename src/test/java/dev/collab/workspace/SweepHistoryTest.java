package dev.collab.workspace;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

/**
 * The sweeps of the cluster, from {@code sweep_runs}: the sweeps of every instance show
 * in {@code /actuator/sweeper}'s cluster view, and the backlog and last-run gauges follow
 * the cluster's latest sweep, whichever instance made it. Other instances are rows they
 * would have written (an instance records its sweep under the sweep lock).
 */
@IntegrationTest
class SweepHistoryTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Autowired
    WorkspaceSweeper sweeper;

    @Autowired
    SweepHistory history;

    @Autowired
    JdbcClient jdbc;

    @Autowired
    Api api;

    private void otherInstanceSwept(String instance, Instant finishedAt, String outcome, int backlog, String stopped) {
        jdbc.sql("""
                insert into sweep_runs (instance, started_at, finished_at, trigger, outcome, stopped, listed,
                                        removed, failed, skipped, backlog, files_deleted, bytes_freed, workspaces,
                                        orphans, unknown)
                values (:instance, :startedAt, :finishedAt, 'schedule', :outcome, :stopped, :listed,
                        3, 0, 12, :backlog, 40, 4096, 20, 5, 0)
                """)
            .param("instance", instance)
            .param("startedAt", finishedAt.minusSeconds(2).atOffset(ZoneOffset.UTC))
            .param("finishedAt", finishedAt.atOffset(ZoneOffset.UTC))
            .param("outcome", outcome)
            .param("stopped", stopped)
            .param("listed", !"failed".equals(outcome) && !"database-mismatch".equals(stopped))
            .param("backlog", backlog)
            .update();
    }

    @Test
    void everyInstancesSweepsShowInTheClusterViewAndTheGaugesFollowTheLatest() {
        SweepReport ours = sweeper.sweep(SweepReport.Trigger.MANUAL).orElseThrow();
        String self = ManagementFactory.getRuntimeMXBean().getName();
        assertThat(history.instance()).isEqualTo(self);
        // PostgreSQL keeps microseconds, rounded: the millisecond may be the next one.
        assertThat(gauge("collab_sweeper_last_run_timestamp_seconds")).as("read again right after the record")
            .isCloseTo(ours.finishedAt().toEpochMilli() / 1000.0, offset(0.0011));

        Instant later = Instant.now().plusSeconds(60).truncatedTo(ChronoUnit.MILLIS);
        otherInstanceSwept("4242@other-host", later, "partial", 7, null);
        await().atMost(WAIT).untilAsserted(() -> {
            JsonNode status = api.get("/actuator/sweeper").json();
            assertThat(status.get("instance").asString()).isEqualTo(self);
            assertThat(status.get("source").asString()).isEqualTo("cluster");
            JsonNode cluster = status.get("cluster");
            assertThat(cluster.get("backlog").asInt()).isEqualTo(7);
            assertThat(Instant.parse(cluster.get("lastRunAt").asString())).isEqualTo(later);
            JsonNode newest = cluster.get("lastRuns").get(0);
            assertThat(newest.get("instance").asString()).isEqualTo("4242@other-host");
            assertThat(newest.get("outcome").asString()).isEqualTo("partial");
            assertThat(newest.get("backlog").asInt()).isEqualTo(7);
            assertThat(newest.propertyNames()).contains("startedAt", "finishedAt", "trigger", "removed", "failed",
                    "skipped", "filesDeleted", "bytesFreed", "workspaces", "orphans", "unknown", "stopped");
            assertThat(cluster.get("lastRuns").get(1).get("instance").asString()).isEqualTo(self);
            assertThat(cluster.get("lastRuns").get(1).get("trigger").asString()).isEqualTo("manual");
            assertThat(instances(cluster)).startsWith("4242@other-host", self);
            // This instance's own part is what it was.
            assertThat(status.get("lastRuns").get(0).get("trigger").asString()).isEqualTo("manual");
        });
        assertThat(gauge("collab_sweeper_backlog")).isEqualTo(7.0);
        assertThat(gauge("collab_sweeper_last_run_timestamp_seconds")).isEqualTo(later.toEpochMilli() / 1000.0);

        // A sweep that the marker stopped did not list the root: the backlog stays
        // that of the latest one that did, but it ran (a blocked sweeper is not a
        // stopped one). One that failed as a whole is neither a backlog nor a run.
        Instant blockedAt = later.plusSeconds(60);
        otherInstanceSwept("4343@third-host", blockedAt, "blocked", 0, "database-mismatch");
        otherInstanceSwept("4242@other-host", blockedAt.plusSeconds(60), "failed", 0, null);
        await().atMost(WAIT).untilAsserted(() -> {
            JsonNode cluster = api.get("/actuator/sweeper").json().get("cluster");
            assertThat(cluster.get("lastRuns").get(0).get("outcome").asString()).isEqualTo("failed");
            assertThat(instances(cluster)).startsWith("4242@other-host", "4343@third-host", self);
            assertThat(cluster.get("backlog").asInt()).isEqualTo(7);
            assertThat(Instant.parse(cluster.get("lastRunAt").asString())).isEqualTo(blockedAt);
        });
        assertThat(gauge("collab_sweeper_backlog")).isEqualTo(7.0);
        assertThat(gauge("collab_sweeper_last_run_timestamp_seconds")).isEqualTo(blockedAt.toEpochMilli() / 1000.0);

        // This instance sweeps again: the latest sweep of the cluster is its own.
        SweepReport again = sweeper.sweep(SweepReport.Trigger.MANUAL).orElseThrow();
        assertThat(gauge("collab_sweeper_backlog")).isEqualTo(again.backlog());
        assertThat(api.get("/actuator/sweeper").json().get("cluster").get("lastRuns").get(0).get("instance").asString())
            .isEqualTo(self);
    }

    @Test
    void theHistoryKeepsAWeekAndAtMostAThousandSweeps() {
        jdbc.sql("""
                insert into sweep_runs (instance, started_at, finished_at, trigger, outcome, listed, removed, failed,
                                        skipped, backlog, files_deleted, bytes_freed, workspaces, orphans, unknown)
                select 'old@host', now() - interval '8 days', now() - interval '8 days', 'schedule', 'completed', true,
                       0, 0, 0, 0, 0, 0, 0, 0, 0
                from generate_series(1, 5)
                """).update();
        jdbc.sql("""
                insert into sweep_runs (instance, started_at, finished_at, trigger, outcome, listed, removed, failed,
                                        skipped, backlog, files_deleted, bytes_freed, workspaces, orphans, unknown)
                select 'busy@host', now() - interval '1 hour', now() - interval '1 hour', 'schedule', 'completed',
                       true, 0, 0, 0, 0, 0, 0, 0, 0, 0
                from generate_series(1, 1100)
                """).update();
        SweepReport report = sweeper.sweep(SweepReport.Trigger.MANUAL).orElseThrow();

        assertThat(jdbc.sql("select count(*) from sweep_runs").query(Integer.class).single())
            .isEqualTo(SweepHistory.KEPT_ROWS);
        assertThat(
                jdbc.sql("select count(*) from sweep_runs where instance = 'old@host'").query(Integer.class).single())
            .isZero();
        Instant newest = jdbc.sql("select finished_at from sweep_runs order by id desc limit 1")
            .query(java.time.OffsetDateTime.class)
            .single()
            .toInstant();
        // PostgreSQL keeps microseconds, rounded.
        assertThat(newest).as("the sweep just recorded is kept")
            .isCloseTo(report.finishedAt(), within(1, ChronoUnit.MICROS));
    }

    private static List<String> instances(JsonNode cluster) {
        List<String> names = new ArrayList<>();
        cluster.get("instances").forEach(sweep -> names.add(sweep.get("instance").asString()));
        return names;
    }

    private static final Pattern SAMPLE = Pattern.compile("^([a-z_]+)\\{[^}]*\\} (\\S+)$");

    private double gauge(String name) {
        return api.get("/actuator/prometheus")
            .text()
            .lines()
            .map(SAMPLE::matcher)
            .filter(Matcher::matches)
            .filter(sample -> sample.group(1).equals(name))
            .map(sample -> Double.parseDouble(sample.group(2)))
            .findFirst()
            .orElseThrow(() -> new AssertionError(name + " is not exported"));
    }

}
