package dev.collab.workspace;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import javax.sql.DataSource;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.MutableClock;
import dev.collab.support.TempDirectories;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The sweeper in the test server, against real files and a real database. This class has
 * a server of its own (the property below differs from the other classes' setup), so it
 * alone decides what lies in the workspace root: a baseline of live sessions plus what
 * each test seeds. Seeded orphans are workspaces of ENDED sessions, as in a real
 * installation (a session row is never deleted); directories whose id has no session at
 * all, which the orphan guard counts, are seeded only by the tests of that guard.
 */
@IntegrationTest
@TestPropertySource(properties = "collab.sweeper.max-orphan-fraction=0.5")
@ExtendWith(OutputCaptureExtension.class)
class WorkspaceSweeperTest {

    private static final int LIVE_BASELINE = 20;

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
    MutableClock clock;

    @Autowired
    WorkspaceBinding binding;

    @Autowired
    MeterRegistry registry;

    @Autowired
    Api api;

    Path outside;

    String endedProject;

    @BeforeEach
    void setUp() throws IOException {
        outside = Files.createTempDirectory("outside");
        Files.writeString(outside.resolve("precious.txt"), "keep");
        int live = jdbc.sql("select count(*) from sessions where state in ('IDLE', 'RUNNING')")
            .query(Integer.class)
            .single();
        if (live < LIVE_BASELINE) {
            String project = api.newProject("baseline");
            for (int i = live; i < LIVE_BASELINE; i++) {
                api.newSession(project);
            }
        }
        endedProject = api.newProject("ended");
        // Leftovers of other tests must not count against this test's numbers.
        sweepUntilClean();
    }

    @AfterEach
    void tearDown() throws IOException {
        sweeper.afterListing = () -> {
        };
        removal.beforeMove = id -> {
        };
        binding.io = WorkspaceBinding.MarkerIo.DEFAULT;
        clock.release();
        // What a guard test leaves must not stop the next test's sweeps: directories of
        // no
        // session, and a marker naming another database.
        try (var entries = Files.list(workspaces.root())) {
            for (Path entry : entries.filter(Files::isDirectory)
                .filter(path -> path.getFileName().toString().matches("[0-9a-f-]{36}"))
                .toList()) {
                UUID id = UUID.fromString(entry.getFileName().toString());
                if (owners.known(List.of(id)).isEmpty()) {
                    TempDirectories.deleteRecursively(entry);
                }
            }
        }
        Path marker = workspaces.root().resolve(WorkspaceBinding.MARKER);
        if (Files.exists(marker) && !Files.readString(marker).contains("installation-id=" + binding.database())) {
            Files.delete(marker);
        }
    }

    /** Directories under the root named like a session, live or not. */
    private int workspaceDirectories() throws IOException {
        try (var entries = Files.list(workspaces.root())) {
            return (int) entries.filter(Files::isDirectory)
                .filter(path -> path.getFileName().toString().matches("[0-9a-f-]{36}"))
                .count();
        }
    }

    private static long count(String text, String needle) {
        return text.lines().filter(line -> line.contains(needle)).count();
    }

    private double blockedGauge(String reason) {
        return registry.get("collab.sweeper.blocked").tag("reason", reason).gauge().value();
    }

    private void sweepUntilClean() {
        for (int i = 0; i < 20 && sweeper.sweep(SweepReport.Trigger.MANUAL).orElseThrow().backlog() > 0; i++) {
            // drain the backlog
        }
    }

    /**
     * The workspace of an ENDED session whose removal never happened (the instance died,
     * say).
     */
    private Path orphan(Duration age, int files) throws IOException {
        Path workspace = unknownOrphan(age, files);
        jdbc.sql("""
                insert into sessions (id, project_key, state, created_at, last_activity_at, ended_at)
                values (:id, :project, 'ENDED', now(), now(), now())
                """)
            .param("id", UUID.fromString(workspace.getFileName().toString()))
            .param("project", endedProject)
            .update();
        return workspace;
    }

    /** A directory named like a session that the database does not know at all. */
    private Path unknownOrphan(Duration age, int files) throws IOException {
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

    /**
     * Shutdown (the BACKGROUND phase): a sweep under way stops before its next workspace,
     * leaves the rest as backlog, and the stop completes once it has ended; no sweep
     * starts while stopped.
     */
    @Test
    void aStopEndsTheSweepUnderWayBeforeItsNextWorkspaceAndWaitsForIt() throws IOException {
        List<Path> orphans = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            orphans.add(orphan(Duration.ofHours(2), 5));
        }
        java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicLong pendingRightAfterStop = new java.util.concurrent.atomic.AtomicLong(-1);
        sweeper.afterListing = () -> {
            sweeper.stop(stopped::countDown);
            pendingRightAfterStop.set(stopped.getCount());
        };
        try {
            SweepReport report = sweep();
            assertThat(pendingRightAfterStop.get()).as("the stop waited for the sweep under way").isEqualTo(1);
            assertThat(stopped.getCount()).as("and completed when it ended").isZero();
            assertThat(report.removed()).isZero();
            assertThat(report.backlog()).isEqualTo(3);
            assertThat(orphans).allMatch(Files::exists);
            assertThat(sweeper.isRunning()).isFalse();
            assertThat(sweeper.requestSweep()).as("no manual sweep while stopped").isFalse();
            assertThat(sweeper.sweep(SweepReport.Trigger.MANUAL)).as("nor any other").isEmpty();
        }
        finally {
            sweeper.afterListing = () -> {
            };
            sweeper.start();
        }
        assertThat(sweep().removed()).isEqualTo(3);
        assertThat(orphans).noneMatch(Files::exists);
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
        // An ENDED session whose background removal never happened (e.g. the instance
        // died).
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
        Path workspace = unknownOrphan(Duration.ofHours(2), 3);
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
        // What a kill mid-delete leaves: a half-deleted tree in quarantine, nothing under
        // a live name.
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
    @SuppressWarnings("try") // the other instance's lock is held for the block, never
                             // used in it
    void anotherInstanceHoldingTheLockMeansNoSweepHere() throws Exception {
        orphan(Duration.ofHours(2), 1);
        try (SweepLock other = SweepLock.tryAcquire(dataSource).orElseThrow()) {
            assertThat(sweeper.sweep(SweepReport.Trigger.MANUAL)).isEmpty();
            assertThat(SweepLock.tryAcquire(dataSource)).isEmpty();
        }
        assertThat(sweeper.sweep(SweepReport.Trigger.MANUAL)).isPresent();
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
                    "skipped", "backlog", "filesDeleted", "bytesFreed", "workspaces", "orphans", "unknown", "stopped");
            assertThat(newest.get("stopped").isNull()).isTrue();
            assertThat(status.get("blocked").isNull()).isTrue();
            assertThat(status.get("binding").asString()).isEqualTo("bound");
        });
        assertThat(api.get("/actuator/sweeper").json().get("lastRuns").size()).isLessThanOrEqualTo(20);
        String metrics = api.get("/actuator/prometheus").text();
        assertThat(metrics).contains("collab_sweeper_runs_total{", "collab_sweeper_workspaces_total{",
                "collab_sweeper_files_deleted_total", "collab_sweeper_duration_seconds_count", "collab_sweeper_backlog",
                "collab_sweeper_bytes_freed_total", "collab_sweeper_blocked{");
        var health = api.get("/actuator/health").json().get("components").get("sweeper");
        assertThat(health.get("status").asString()).isEqualTo("UP");
        assertThat(health.get("details").get("lastRun")).isNotNull();
        assertThat(health.get("details").get("binding").asString()).isEqualTo("bound");
    }

    @Test
    void orphansAreTakenOldestFirst() throws IOException {
        // Ages 2 h + 0..12 min, created in random order: the 10 oldest go, the 3 youngest
        // wait.
        List<Integer> minutes = new ArrayList<>();
        for (int i = 0; i < 13; i++) {
            minutes.add(i);
        }
        Collections.shuffle(minutes);
        Path[] byAge = new Path[13];
        for (int minute : minutes) {
            byAge[minute] = orphan(Duration.ofHours(2).plusMinutes(minute), 1);
        }
        SweepReport report = sweep();
        assertThat(report.removed()).isEqualTo(10);
        assertThat(report.backlog()).isEqualTo(3);
        for (int minute = 0; minute < 13; minute++) {
            assertThat(Files.exists(byAge[minute])).as("orphan %d min older than 2 h", minute).isEqualTo(minute < 3);
        }
    }

    @Test
    void anOrphanThatCannotBeMovedDoesNotUseUpEverySweepsBudget() throws IOException {
        // The three oldest cannot be moved (as a mount point or an immutable directory
        // cannot);
        // tests run as root, so the move itself is made to fail the way the OS fails it.
        List<Path> stuck = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            stuck.add(orphan(Duration.ofHours(5), 1));
        }
        List<Path> movable = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            movable.add(orphan(Duration.ofHours(2), 1));
        }
        Set<UUID> refused = new java.util.HashSet<>();
        stuck.forEach(path -> refused.add(UUID.fromString(path.getFileName().toString())));
        removal.beforeMove = id -> {
            if (refused.contains(id)) {
                throw new FileSystemException(id.toString(), null, "Operation not permitted");
            }
        };

        SweepReport first = sweep();
        assertThat(first.failed()).isEqualTo(3);
        assertThat(first.removed()).as("failures use none of max-per-run").isEqualTo(10);
        assertThat(first.backlog()).isEqualTo(2);

        SweepReport second = sweep();
        assertThat(second.failed()).as("not tried again within the backoff").isZero();
        assertThat(second.removed()).isEqualTo(2);
        assertThat(movable).allMatch(path -> !Files.exists(path));
        assertThat(stuck).allMatch(Files::exists);

        clock.advance(WorkspaceSweeper.MOVE_FAILURE_BACKOFF.plusMinutes(1));
        assertThat(sweep().failed()).as("tried again once the backoff is over").isEqualTo(3);
        removal.beforeMove = id -> {
        };
        assertThat(sweep().failed()).as("still in its new backoff").isZero();
        clock.advance(WorkspaceSweeper.MOVE_FAILURE_BACKOFF.plusMinutes(1));
        SweepReport fixed = sweep();
        assertThat(fixed.removed()).isEqualTo(3);
        assertThat(stuck).allMatch(path -> !Files.exists(path));
    }

    @Test
    void anOlderBackupRestoredInPlaceDeletesNothing(CapturedOutput output) throws IOException {
        // The database is an older copy of the right one: the marker matches, but it does
        // not
        // know the sessions created since. Here 10 of 32 workspaces (31 %, well under one
        // half of
        // the root), plus two ordinary ENDED leftovers it does know.
        int workspacesBefore = workspaceDirectories();
        List<Path> newer = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            newer.add(unknownOrphan(Duration.ofHours(2), 1));
        }
        List<Path> ended = List.of(orphan(Duration.ofHours(3), 1), orphan(Duration.ofHours(3), 1));
        SweepReport first = sweep();
        SweepReport second = sweep();
        for (SweepReport report : List.of(first, second)) {
            assertThat(report.stopped()).isEqualTo("orphan-fraction");
            assertThat(report.removed() + report.failed()).isZero();
            assertThat(report.orphans()).isEqualTo(12);
            assertThat(report.unknown()).isEqualTo(10);
            assertThat(report.workspaces()).isEqualTo(workspacesBefore + 12);
        }
        assertThat(newer).allMatch(Files::exists);
        assertThat(ended).as("a stopped sweep deletes nothing at all").allMatch(Files::exists);
        assertThat(blockedGauge("orphan-fraction")).isEqualTo(1.0);
        assertThat(blockedGauge("database-mismatch")).isZero();
        var status = api.get("/actuator/sweeper").json();
        assertThat(status.get("lastRuns").get(0).get("stopped").asString()).isEqualTo("orphan-fraction");
        assertThat(status.get("blocked").get("reason").asString()).isEqualTo("orphan-fraction");
        var health = api.get("/actuator/health").json().get("components").get("sweeper");
        assertThat(health.get("status").asString()).isEqualTo("DOWN");
        assertThat(health.get("details").get("blocked").get("reason").asString()).isEqualTo("orphan-fraction");
        assertThat(health.get("details").get("blocked").get("detail").asString()).contains("max-orphan-fraction");
        assertThat(api.get("/actuator/health/liveness").status()).isEqualTo(200);
        assertThat(api.get("/actuator/health/readiness").status()).isEqualTo(200);
        assertThat(api.get("/actuator/prometheus").text())
            .containsPattern("collab_sweeper_blocked\\{[^}]*reason=\"orphan-fraction\"[^}]*} 1\\.0");
        assertThat(count(output.getAll(), "max-orphan-fraction")).as("logged once, not at every sweep").isEqualTo(1);

        // 3 of 6 orphans with no session: more than unknown-orphans-tolerated (2), but
        // not more
        // than one half: the sweeper works again.
        for (Path gone : newer.subList(0, 7)) {
            TempDirectories.deleteRecursively(gone);
        }
        orphan(Duration.ofHours(2), 1);
        SweepReport resumed = sweep();
        assertThat(resumed.stopped()).isNull();
        assertThat(resumed.unknown()).isEqualTo(3);
        assertThat(resumed.removed()).isEqualTo(6);
        assertThat(blockedGauge("orphan-fraction")).isZero();
        assertThat(api.get("/actuator/health").json().get("components").get("sweeper").get("status").asString())
            .isEqualTo("UP");
    }

    @Test
    void manyOrphansOfEndedSessionsAreSweptAsUsual() throws IOException {
        // More than half of the root, but every one of them is an ENDED session: the
        // database
        // says they can go, which an older or a wrong database cannot say.
        int orphanCount = workspaceDirectories() * 3 / 2;
        for (int i = 0; i < orphanCount; i++) {
            orphan(Duration.ofHours(2), 1);
        }
        SweepReport report = sweep();
        assertThat(report.stopped()).isNull();
        assertThat(report.unknown()).isZero();
        assertThat(report.removed()).isEqualTo(10);
        sweepUntilClean();
    }

    @Test
    void aFewLeftoversOfNoSessionNeverStopTheSweeper() throws IOException {
        // A small, quiet installation: its only orphans are two directories whose session
        // was
        // never committed (a crash between mkdir and commit). All orphans, but within
        // unknown-orphans-tolerated (2): swept, not a health alarm forever.
        List<Path> leftovers = List.of(unknownOrphan(Duration.ofHours(2), 1), unknownOrphan(Duration.ofHours(4), 1));
        SweepReport report = sweep();
        assertThat(report.stopped()).isNull();
        assertThat(report.unknown()).isEqualTo(2);
        assertThat(report.orphans()).isEqualTo(2);
        assertThat(leftovers).allMatch(path -> !Files.exists(path));
        assertThat(sweeper.blocked()).isEmpty();
    }

    @Test
    void anUnboundRootWithWorkspacesIsBoundOnlyByASweepWhoseGuardPassed() throws IOException {
        // An upgrade: the root holds live workspaces and orphans but no marker yet, and
        // the
        // server is on the right database.
        Path marker = workspaces.root().resolve(WorkspaceBinding.MARKER);
        Files.delete(marker);
        List<Path> orphans = List.of(orphan(Duration.ofHours(2), 1), orphan(Duration.ofHours(3), 1),
                unknownOrphan(Duration.ofHours(2), 1));
        String project = api.newProject("upgrade");
        Path live = workspaces.directoryOf(api.newSession(project));
        Files.setLastModifiedTime(live, FileTime.from(Instant.now().minus(Duration.ofDays(3))));

        // What a server does when it becomes ready: a root with workspaces is not bound
        // then.
        sweeper.checkBindingAtStart();
        assertThat(marker).doesNotExist();
        assertThat(sweeper.binding()).isEqualTo("unbound");
        var health = api.get("/actuator/health").json().get("components").get("sweeper");
        assertThat(health.get("status").asString()).as("unbound is not blocked").isEqualTo("UP");
        assertThat(health.get("details").get("binding").asString()).isEqualTo("unbound");

        SweepReport report = sweep();
        assertThat(report.stopped()).isNull();
        assertThat(marker).as("bound by the sweep, to this database")
            .content()
            .contains("installation-id=" + binding.database());
        assertThat(sweeper.binding()).isEqualTo("bound");
        assertThat(orphans).allMatch(path -> !Files.exists(path));
        assertThat(live).exists();
    }

    @Test
    void aMarkerThatCannotBeReadForNowFailsTheSweepWithoutCallingItBad(CapturedOutput output) throws IOException {
        Path orphan = orphan(Duration.ofHours(2), 1);
        String marker = Files.readString(workspaces.root().resolve(WorkspaceBinding.MARKER));
        double failedBefore = registry.counter("collab.sweeper.runs", "outcome", "failed").count();
        // EACCES, EIO or ESTALE on a valid marker (injected: tests run as root).
        binding.io = new WorkspaceBinding.MarkerIo(path -> {
            throw new java.nio.file.FileSystemException(path.toString(), null, "Stale file handle");
        }, WorkspaceBinding.MarkerIo.DEFAULT.linker());
        assertThat(sweeper.sweep(SweepReport.Trigger.MANUAL)).as("the sweep failed as a whole").isEmpty();
        assertThat(orphan).as("nothing deleted").exists();
        assertThat(registry.counter("collab.sweeper.runs", "outcome", "failed").count()).isEqualTo(failedBefore + 1);
        assertThat(sweeper.blocked()).as("not reported as a bad marker").isEmpty();
        assertThat(output.getAll()).contains("Sweep failed").doesNotContain("not a readable marker");
        assertThat(workspaces.root().resolve(WorkspaceBinding.MARKER)).hasContent(marker);

        binding.io = WorkspaceBinding.MarkerIo.DEFAULT;
        assertThat(sweep().stopped()).isNull();
        assertThat(orphan).doesNotExist();
    }

    @Test
    @SuppressWarnings("try") // the other instance's lock is held for the block, never
                             // used in it
    void aReplicaThatFindsTheLockTakenStillSeesTheMarkerChange() throws Exception {
        Path marker = workspaces.root().resolve(WorkspaceBinding.MARKER);
        String ours = Files.readString(marker);
        try (SweepLock other = SweepLock.tryAcquire(dataSource).orElseThrow()) {
            Files.writeString(marker, "installation-id=" + UUID.randomUUID() + "\n");
            assertThat(sweeper.sweep(SweepReport.Trigger.MANUAL)).isEmpty();
            assertThat(sweeper.blocked()).map(WorkspaceSweeper.Blocked::reason).contains("database-mismatch");
            Files.writeString(marker, ours);
            assertThat(sweeper.sweep(SweepReport.Trigger.MANUAL)).isEmpty();
            assertThat(sweeper.blocked()).isEmpty();
        }
    }

    @Test
    void aRootBoundToAnotherDatabaseIsNeverSwept(CapturedOutput output) throws IOException {
        Path marker = workspaces.root().resolve(WorkspaceBinding.MARKER);
        List<Path> backlogged = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            backlogged.add(orphan(Duration.ofHours(2), 1));
        }
        assertThat(sweep().backlog()).isEqualTo(2);
        assertThat(marker).as("bound at the latest by the first sweep").exists();
        String ours = Files.readString(marker);
        UUID other = UUID.randomUUID();
        Files.writeString(marker, "installation-id=" + other + "\n");
        Path orphan = orphan(Duration.ofHours(2), 2);
        String project = api.newProject("bound");
        String ended = api.post("/api/projects/" + project + "/sessions", "{}").json().get("id").asString();
        jdbc.sql("update sessions set state = 'ENDED' where id = :id").param("id", UUID.fromString(ended)).update();
        Files.setLastModifiedTime(workspaces.directoryOf(UUID.fromString(ended)),
                FileTime.from(Instant.now().minus(Duration.ofHours(3))));

        for (int i = 0; i < 2; i++) {
            SweepReport report = sweep();
            assertThat(report.stopped()).isEqualTo("database-mismatch");
            assertThat(report.removed() + report.failed()).isZero();
        }
        assertThat(orphan).exists();
        assertThat(workspaces.directoryOf(UUID.fromString(ended))).exists();
        assertThat(marker).as("never rewritten by the server").hasContent("installation-id=" + other + "\n");
        assertThat(blockedGauge("database-mismatch")).isEqualTo(1.0);
        var health = api.get("/actuator/health").json().get("components").get("sweeper");
        assertThat(health.get("status").asString()).isEqualTo("DOWN");
        var blocked = health.get("details").get("blocked");
        assertThat(blocked.get("reason").asString()).isEqualTo("database-mismatch");
        assertThat(blocked.get("detail").asString()).contains(other.toString(), ".collab-database");
        assertThat(api.get("/actuator/health").text()).doesNotContain(workspaces.root().toString());
        assertThat(api.get("/actuator/sweeper").json().get("blocked").get("reason").asString())
            .isEqualTo("database-mismatch");
        assertThat(api.get("/actuator/health/liveness").status()).isEqualTo(200);
        assertThat(api.get("/actuator/health/readiness").status()).isEqualTo(200);
        assertThat(count(output.getAll(), "bound to another database")).as("logged once").isEqualTo(1);
        assertThat(output.getAll().lines().filter(line -> line.contains("stopped (database-mismatch)")))
            .as("the root was not listed: no counts")
            .hasSize(2)
            .allSatisfy(line -> assertThat(line).doesNotContain(" of ").endsWith("nothing deleted"));
        assertThat(registry.get("collab.sweeper.backlog").gauge().value()).as("unchanged by sweeps that did not look")
            .isEqualTo(2.0);
        assertThat(backlogged.stream().filter(Files::exists)).hasSize(2);

        // Re-binding on purpose: delete the marker; the next sweep binds the root to this
        // database.
        Files.delete(marker);
        SweepReport rebound = sweep();
        assertThat(rebound.stopped()).isNull();
        assertThat(orphan).doesNotExist();
        assertThat(workspaces.directoryOf(UUID.fromString(ended))).doesNotExist();
        assertThat(marker).hasContent(ours);
        assertThat(blockedGauge("database-mismatch")).isZero();
        assertThat(api.get("/actuator/health").json().get("components").get("sweeper").get("status").asString())
            .isEqualTo("UP");
    }

}
