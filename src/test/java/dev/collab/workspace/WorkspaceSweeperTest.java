package dev.collab.workspace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import javax.sql.DataSource;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;

import java.time.Clock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@IntegrationTest
class WorkspaceSweeperTest {

    @LocalServerPort
    int port;
    @Autowired
    WorkspaceSweeper sweeper;
    @Autowired
    Workspaces workspaces;
    @Autowired
    WorkspaceRemoval removal;
    @Autowired
    WorkspaceOwners owners;
    @Autowired
    DataSource dataSource;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    Clock clock;
    @Autowired
    MeterRegistry registry;
    Api api;
    Path outside;

    @BeforeEach
    void setUp() throws IOException {
        api = new Api(port);
        outside = Files.createTempDirectory("outside");
        Files.writeString(outside.resolve("precious.txt"), "keep");
        // Leftovers of other tests must not count against this test's numbers.
        sweepUntilClean();
    }

    @AfterEach
    void tearDown() {
        sweeper.afterListing = () -> { };
    }

    private void sweepUntilClean() {
        for (int i = 0; i < 20 && sweeper.sweep(SweepReport.Trigger.MANUAL).orElseThrow().backlog() > 0; i++) {
            // drain the backlog
        }
    }

    private Path orphan(Duration age, int files) throws IOException {
        Path dir = Files.createDirectories(workspaces.root().resolve(UUID.randomUUID().toString()).resolve("src"));
        for (int i = 0; i < files; i++) {
            Files.writeString(dir.resolve("f" + i + ".txt"), "content " + i);
        }
        Path workspace = dir.getParent();
        Files.setLastModifiedTime(workspace, FileTime.from(Instant.now().minus(age)));
        return workspace;
    }

    private SweepReport sweep() {
        return sweeper.sweep(SweepReport.Trigger.MANUAL).orElseThrow();
    }

    @Test
    void removesAtMostMaxPerRunAndReportsTheBacklog() throws IOException {
        List<Path> orphans = new ArrayList<>();
        for (int i = 0; i < 13; i++) {
            orphans.add(orphan(Duration.ofHours(2), 5));
        }
        SweepReport first = sweep();
        assertThat(first.removed()).isEqualTo(10);
        assertThat(first.backlog()).isEqualTo(3);
        assertThat(first.filesDeleted()).isEqualTo(50);
        assertThat(orphans.stream().filter(Files::exists)).hasSize(3);
        assertThat(registry.get("collab.sweeper.backlog").gauge().value()).isEqualTo(3.0);

        SweepReport second = sweep();
        assertThat(second.removed()).isEqualTo(3);
        assertThat(second.backlog()).isZero();
        assertThat(orphans).allMatch(path -> !Files.exists(path));
    }

    @Test
    void youngDirectoriesAreNeverTouched() throws IOException {
        Path young = orphan(Duration.ofMinutes(59), 1);
        Path old = orphan(Duration.ofMinutes(61), 1);
        SweepReport report = sweep();
        assertThat(young).exists();
        assertThat(old).doesNotExist();
        assertThat(report.skipped()).isGreaterThanOrEqualTo(1);
        Files.setLastModifiedTime(young, FileTime.from(Instant.now().minus(Duration.ofHours(2))));
        sweep();
        assertThat(young).doesNotExist();
    }

    @Test
    void liveSessionsKeepTheirWorkspacesAndEndedOnesLoseThem() throws IOException {
        String project = api.newProject("sweep");
        String live = api.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString();
        String ended = api.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString();
        // An ENDED session whose background removal never happened (e.g. the instance died).
        jdbc.sql("update sessions set state = 'ENDED' where id = :id").param("id", UUID.fromString(ended)).update();
        for (String id : List.of(live, ended)) {
            Files.setLastModifiedTime(workspaces.directoryOf(UUID.fromString(id)),
                    FileTime.from(Instant.now().minus(Duration.ofHours(3))));
        }
        sweep();
        assertThat(workspaces.directoryOf(UUID.fromString(live))).exists();
        assertThat(workspaces.directoryOf(UUID.fromString(ended))).doesNotExist();
    }

    @Test
    void aSessionCreatedBetweenListingAndDeletingSurvives() throws IOException {
        String project = api.newProject("race");
        Path workspace = orphan(Duration.ofHours(2), 3);
        UUID id = UUID.fromString(workspace.getFileName().toString());
        sweeper.afterListing = () -> jdbc.sql("""
                insert into sessions (id, project_key, state, created_at, last_activity_at)
                values (:id, :project, 'IDLE', now(), now())
                """).param("id", id).param("project", project).update();
        SweepReport report = sweep();
        assertThat(workspace).exists();
        assertThat(Files.list(workspace.resolve("src"))).hasSize(3);
        assertThat(report.skipped()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void entriesThatAreNotWorkspacesAreLeftAloneAndReported() throws IOException {
        Path root = workspaces.root();
        Path file = Files.writeString(root.resolve("notes.txt"), "x");
        Path link = Files.createSymbolicLink(root.resolve(UUID.randomUUID().toString()), outside);
        Path otherName = Files.createDirectories(root.resolve("not-a-session"));
        for (Path entry : List.of(file, otherName)) {
            Files.setLastModifiedTime(entry, FileTime.from(Instant.now().minus(Duration.ofDays(2))));
        }
        SweepReport report = sweep();
        assertThat(file).exists();
        assertThat(otherName).exists();
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(outside.resolve("precious.txt")).hasContent("keep");
        assertThat(report.skipped()).isGreaterThanOrEqualTo(3);
        Files.delete(link);
        Files.delete(file);
        Files.delete(otherName);
    }

    @Test
    void aDeleteCutShortIsFinishedFromQuarantine() throws IOException {
        // What a kill mid-delete leaves: a half-deleted tree in quarantine, nothing under a live name.
        Path half = Files.createDirectories(removal.quarantine().resolve(UUID.randomUUID() + ".1.1/a/b"));
        Files.writeString(half.resolve("left.txt"), "x");
        Files.createSymbolicLink(half.resolve("link"), outside);
        SweepReport report = sweep();
        try (var left = Files.list(removal.quarantine())) {
            assertThat(left).isEmpty();
        }
        assertThat(report.removed()).isGreaterThanOrEqualTo(1);
        assertThat(outside.resolve("precious.txt")).hasContent("keep");
    }

    @Test
    void aQuarantineReplacedByALinkIsNeverFollowed() throws IOException {
        Path quarantine = removal.quarantine();
        Files.delete(quarantine);
        Files.createSymbolicLink(quarantine, outside);
        Path orphan = orphan(Duration.ofHours(2), 2);
        sweep();
        assertThat(outside.resolve("precious.txt")).hasContent("keep");
        assertThat(Files.isSymbolicLink(quarantine)).isFalse();
        assertThat(quarantine).isDirectory();
        assertThat(orphan).doesNotExist();

        Files.delete(quarantine);
        Path another = orphan(Duration.ofHours(2), 1);
        sweep();
        assertThat(another).as("a missing quarantine is made again").doesNotExist();
    }

    @Test
    void minAgeHasAFloorAndBadSettingsAreRejected() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new SweeperProperties(true, Duration.ofSeconds(1),
                Duration.ofMinutes(1), 10, Duration.ZERO, null, 4)).hasMessageContaining("min-age");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new SweeperProperties(true, Duration.ofSeconds(1),
                Duration.ZERO, 10, Duration.ofHours(1), null, 4)).hasMessageContaining("interval");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new SweeperProperties(true, Duration.ofSeconds(-1),
                Duration.ofMinutes(1), 10, Duration.ofHours(1), null, 4)).hasMessageContaining("initial-delay");
    }

    @Test
    void deletingASessionRemovesItsWorkspaceInTheBackground() {
        String project = api.newProject("delete");
        String id = api.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString();
        Path workspace = workspaces.directoryOf(UUID.fromString(id));
        assertThat(workspace).exists();
        assertThat(api.delete("/api/sessions/" + id).status()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(workspace));
        assertThat(api.delete("/api/sessions/" + id).status()).isEqualTo(204);
    }

    @Test
    void anotherInstanceHoldingTheLockMeansNoSweepHere() throws Exception {
        orphan(Duration.ofHours(2), 1);
        try (SweepLock other = SweepLock.tryAcquire(dataSource).orElseThrow()) {
            assertThat(sweeper.sweep(SweepReport.Trigger.MANUAL)).isEmpty();
            assertThat(SweepLock.tryAcquire(dataSource)).isEmpty();
        }
        assertThat(sweeper.sweep(SweepReport.Trigger.MANUAL)).isPresent();
    }

    @Test
    void retentionEndsIdleSessionsSoTheirWorkspacesGo() throws IOException {
        String project = api.newProject("retention");
        String idle = api.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString();
        jdbc.sql("update sessions set last_activity_at = now() - interval '3 days' where id = :id")
                .param("id", UUID.fromString(idle)).update();
        String recent = api.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString();
        var retaining = new WorkspaceSweeper(workspaces, removal, owners, dataSource,
                new SweeperProperties(true, Duration.ofHours(1), Duration.ofMinutes(10), 10, Duration.ofHours(1),
                        Duration.ofDays(1), 2), clock, registry);
        try {
            retaining.sweep(SweepReport.Trigger.MANUAL).orElseThrow();
        } finally {
            retaining.destroy();
        }
        assertThat(api.get("/api/sessions/" + idle).json().get("state").asString()).isEqualTo("ENDED");
        assertThat(api.get("/api/sessions/" + recent).json().get("state").asString()).isEqualTo("IDLE");
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(workspaces.directoryOf(UUID.fromString(idle))));
    }

    @Test
    void operatorsSeeRunsAndCanStartOne() throws IOException {
        Path old = orphan(Duration.ofHours(2), 2);
        Api.Response started = api.send(java.net.http.HttpRequest.newBuilder(api.uri("/actuator/sweeper"))
                .POST(java.net.http.HttpRequest.BodyPublishers.noBody()));
        assertThat(started.status()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(old));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            var status = api.get("/actuator/sweeper").json();
            assertThat(status.get("enabled").asBoolean()).isTrue();
            assertThat(status.get("nextRunAt").isNull()).isFalse();
            var newest = status.get("lastRuns").get(0);
            assertThat(newest.get("trigger").asString()).isEqualTo("manual");
            assertThat(newest.propertyNames()).contains("startedAt", "finishedAt", "trigger", "removed", "failed",
                    "skipped", "backlog", "filesDeleted", "bytesFreed");
        });
        assertThat(api.get("/actuator/sweeper").json().get("lastRuns").size()).isLessThanOrEqualTo(20);
        String metrics = api.get("/actuator/prometheus").text();
        assertThat(metrics).contains("collab_sweeper_runs_total{", "collab_sweeper_workspaces_total{",
                "collab_sweeper_files_deleted_total", "collab_sweeper_duration_seconds_count", "collab_sweeper_backlog",
                "collab_sweeper_bytes_freed_total");
        var health = api.get("/actuator/health").json().get("components").get("sweeper");
        assertThat(health.get("status").asString()).isEqualTo("UP");
        assertThat(health.get("details").get("lastRun")).isNotNull();
    }
}
