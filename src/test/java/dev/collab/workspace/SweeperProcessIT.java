package dev.collab.workspace;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.collab.support.Api;
import dev.collab.support.ContractValidator;
import dev.collab.support.ServerProcess;
import dev.collab.support.TempDirectories;
import dev.collab.support.TestDatabase;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The sweeper in real server processes. Incident 1: a boot with a backlog of large orphan
 * trees must stay healthy (every probe answers 200, quickly) and become ready on time
 * while the sweep deletes; and two instances on one database never sweep at the same
 * time.
 */
class SweeperProcessIT {

    private static String[] teamMode(Path root, String... more) {
        TestDatabase.Server db = TestDatabase.server();
        List<String> args = new ArrayList<>(List.of("--spring.datasource.url=" + TestDatabase.newDatabase(),
                "--spring.datasource.username=" + db.user(), "--spring.datasource.password=" + db.password(),
                "--collab.workspace.root=" + root));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    private static List<Path> seedOrphans(Path root, int trees, int directories, int filesEach) throws IOException {
        List<Path> seeded = new ArrayList<>();
        for (int t = 0; t < trees; t++) {
            Path tree = Files.createDirectories(root.resolve(UUID.randomUUID().toString()));
            for (int d = 0; d < directories; d++) {
                Path dir = Files.createDirectories(tree.resolve("node_modules/pkg" + d + "/lib"));
                for (int f = 0; f < filesEach; f++) {
                    Files.writeString(dir.resolve("file" + f + ".js"), "module.exports = " + f + ";\n");
                }
            }
            Files.setLastModifiedTime(tree, FileTime.from(Instant.now().minus(Duration.ofDays(1))));
            seeded.add(tree);
        }
        return seeded;
    }

    @Test
    void bootWithABacklogOfLargeTreesStaysHealthyWhileSweeping() throws Exception {
        Path dataDir = TempDirectories.create("crashloop-");
        Path root = Files.createDirectories(dataDir.resolve("workspaces"));
        List<Path> orphans = seedOrphans(root, 8, 20, 100); // 8 trees of 2,000 files

        long launched = System.nanoTime();
        // The root holds nothing but orphans here, which the orphan-fraction guard would
        // stop at;
        // this test is about health during a long sweep, so the guard is off.
        try (ServerProcess server = ServerProcess.start(dataDir, teamMode(root, "--collab.sweeper.initial-delay=1s",
                "--collab.sweeper.max-per-run=10", "--collab.sweeper.max-orphan-fraction=1"))) {
            server.awaitReady();
            Duration toReady = Duration.ofNanos(System.nanoTime() - launched);
            assertThat(toReady).as("ready on time, not after the sweep").isLessThan(Duration.ofSeconds(60));

            Api api = server.api();
            // The test client checks every answer against the server's OpenAPI document,
            // fetched on
            // its first request: fetch it now, so that no timed probe includes it.
            ContractValidator.forServer(api.base());
            List<String> failures = new ArrayList<>();
            long slowest = 0;
            int probes = 0;
            AtomicBoolean swept = new AtomicBoolean();
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (!swept.get() && System.nanoTime() < deadline) {
                for (String probe : List.of("/actuator/health/liveness", "/actuator/health/readiness",
                        "/actuator/health")) {
                    long started = System.nanoTime();
                    Api.Response response = api.get(probe);
                    long millis = (System.nanoTime() - started) / 1_000_000;
                    slowest = Math.max(slowest, millis);
                    probes++;
                    if (response.status() != 200) {
                        failures.add(probe + " -> " + response.status());
                    }
                }
                swept.set(orphans.stream().noneMatch(Files::exists));
            }
            assertThat(swept).as("the backlog was swept").isTrue();
            assertThat(failures).as("no health probe failed during the sweep").isEmpty();
            assertThat(slowest).as("slowest of %d probes, in ms", probes).isLessThan(2_000);
            await().atMost(Duration.ofSeconds(30))
                .until(() -> api.get("/actuator/sweeper").json().get("lastRuns").size() > 0);
            JsonNode lastRun = api.get("/actuator/sweeper").json().get("lastRuns").get(0);
            assertThat(lastRun.get("trigger").asString()).isEqualTo("schedule");
            assertThat(lastRun.get("removed").asInt()).isEqualTo(8);
            assertThat(server.terminate(Duration.ofSeconds(60))).isIn(0, 143);
        }
    }

    @Test
    void twoInstancesOnOneDatabaseNeverSweepAtOnce() throws Exception {
        Path dataA = TempDirectories.create("twin-a-");
        Path dataB = TempDirectories.create("twin-b-");
        Path root = Files.createDirectories(TempDirectories.create("shared-").resolve("workspaces"));
        String[] common = teamMode(root, "--collab.sweeper.initial-delay=1h", "--collab.sweeper.max-per-run=2",
                "--collab.sweeper.delete-workers=1", "--collab.sweeper.max-orphan-fraction=1");
        List<Path> orphans = seedOrphans(root, 12, 10, 100);

        try (ServerProcess a = ServerProcess.start(dataA, common);
                ServerProcess b = ServerProcess.start(dataB, common)) {
            a.awaitReady();
            b.awaitReady();
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50)).until(() -> {
                for (ServerProcess server : List.of(a, b)) {
                    server.api()
                        .send(HttpRequest.newBuilder(server.api().uri("/actuator/sweeper"))
                            .POST(HttpRequest.BodyPublishers.noBody()));
                }
                return orphans.stream().noneMatch(Files::exists);
            });
            await().atMost(Duration.ofSeconds(30)).until(() -> totalRemoved(a, b) >= orphans.size());
            // The root held workspaces this database does not know, so neither bound it
            // at startup
            // nor while sweeping them; the first sweep that finds it empty binds it.
            Path marker = root.resolve(WorkspaceBinding.MARKER);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
                a.api()
                    .send(HttpRequest.newBuilder(a.api().uri("/actuator/sweeper"))
                        .POST(HttpRequest.BodyPublishers.noBody()));
                return Files.exists(marker);
            });

            List<Instant[]> runs = new ArrayList<>();
            for (ServerProcess server : List.of(a, b)) {
                server.api()
                    .get("/actuator/sweeper")
                    .json()
                    .get("lastRuns")
                    .forEach(run -> runs.add(new Instant[] { Instant.parse(run.get("startedAt").asString()),
                            Instant.parse(run.get("finishedAt").asString()) }));
            }
            runs.sort((x, y) -> x[0].compareTo(y[0]));
            for (int i = 1; i < runs.size(); i++) {
                assertThat(runs.get(i)[0]).as("sweep %d starts after the previous one finished", i)
                    .isAfterOrEqualTo(runs.get(i - 1)[1]);
            }
            assertThat(totalRemoved(a, b)).as("every orphan removed exactly once").isEqualTo(orphans.size());
            assertThat(Files.readString(marker)).containsOnlyOnce("installation-id=");
            for (ServerProcess server : List.of(a, b)) {
                server.api()
                    .send(HttpRequest.newBuilder(server.api().uri("/actuator/sweeper"))
                        .POST(HttpRequest.BodyPublishers.noBody()));
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    JsonNode status = server.api().get("/actuator/sweeper").json();
                    assertThat(status.get("blocked").isNull()).isTrue();
                    assertThat(status.get("binding").asString()).as("both agree with it").isEqualTo("bound");
                });
            }
        }
    }

    @Test
    void aRootBoundToOneDatabaseIsNeverSweptByAServerOnAnother() throws Exception {
        Path root = Files.createDirectories(TempDirectories.create("bound-").resolve("workspaces"));
        Path marker = root.resolve(WorkspaceBinding.MARKER);
        String[] databaseA = teamMode(root, "--collab.sweeper.initial-delay=1h");
        try (ServerProcess a = ServerProcess.start(TempDirectories.create("db-a-"), databaseA)) {
            a.awaitReady();
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(marker));
            assertThat(a.api().get("/actuator/health").json().get("components").get("sweeper").get("status").asString())
                .isEqualTo("UP");
            assertThat(a.terminate(Duration.ofSeconds(60))).isIn(0, 143);
        }
        String boundToA = Files.readString(marker);
        List<Path> workspaces = seedOrphans(root, 6, 1, 3);

        // Database B does not know these workspaces: every one of them looks orphaned.
        // The
        // orphan-fraction guard is off, so that the binding alone must keep them.
        try (ServerProcess b = ServerProcess.start(TempDirectories.create("db-b-"),
                teamMode(root, "--collab.sweeper.initial-delay=1h", "--collab.sweeper.max-orphan-fraction=1"))) {
            b.awaitReady();
            Api api = b.api();
            // Shown as soon as the server is ready, long before its first sweep.
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                JsonNode sweeper = api.get("/actuator/health").json().get("components").get("sweeper");
                assertThat(sweeper.get("status").asString()).isEqualTo("DOWN");
                assertThat(sweeper.get("details").get("binding").asString()).isEqualTo("database-mismatch");
            });
            assertThat(api.get("/actuator/sweeper").json().get("lastRuns").size()).as("no sweep has run").isZero();
            for (int i = 1; i <= 2; i++) {
                int runs = i;
                api.send(
                        HttpRequest.newBuilder(api.uri("/actuator/sweeper")).POST(HttpRequest.BodyPublishers.noBody()));
                await().atMost(Duration.ofSeconds(60))
                    .until(() -> api.get("/actuator/sweeper").json().get("lastRuns").size() >= runs);
            }
            JsonNode status = api.get("/actuator/sweeper").json();
            status.get("lastRuns").forEach(run -> {
                assertThat(run.get("stopped").asString()).isEqualTo("database-mismatch");
                assertThat(run.get("removed").asInt()).isZero();
            });
            assertThat(status.get("blocked").get("reason").asString()).isEqualTo("database-mismatch");
            assertThat(workspaces).as("nothing deleted").allMatch(Files::exists);
            assertThat(marker).as("the marker still names database A").hasContent(boundToA);

            JsonNode sweeper = api.get("/actuator/health").json().get("components").get("sweeper");
            assertThat(sweeper.get("status").asString()).isEqualTo("DOWN");
            assertThat(sweeper.get("details").get("blocked").get("reason").asString()).isEqualTo("database-mismatch");
            assertThat(api.get("/actuator/health/liveness").status()).isEqualTo(200);
            assertThat(api.get("/actuator/health/readiness").status()).isEqualTo(200);
            assertThat(api.get("/actuator/prometheus").text())
                .containsPattern("collab_sweeper_blocked\\{[^}]*reason=\"database-mismatch\"[^}]*} 1\\.0");
            List<String> logged = b.outputLines()
                .stream()
                .filter(line -> line.contains("bound to another database"))
                .toList();
            assertThat(logged).as("logged once, clearly").hasSize(1);
            assertThat(logged.getFirst()).contains("ERROR", marker.toString(), "delete");
            assertThat(b.terminate(Duration.ofSeconds(60))).isIn(0, 143);
        }
    }

    /** From the metrics, which count every run (the report keeps only the last 20). */
    private static int totalRemoved(ServerProcess... servers) {
        double removed = 0;
        for (ServerProcess server : servers) {
            removed += server.api()
                .get("/actuator/prometheus")
                .text()
                .lines()
                .filter(line -> line.startsWith("collab_sweeper_workspaces_total{")
                        && line.contains("result=\"removed\"") && line.contains("source=\"sweep\""))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .sum();
        }
        return (int) removed;
    }

    @Test
    void anUnboundRootWithWorkspacesIsNotBoundToAWrongDatabase() throws Exception {
        // An upgrade from a version without the marker, done against the wrong (here: a
        // fresh)
        // database: the root holds workspaces this database does not know.
        Path dataDir = TempDirectories.create("upgrade-");
        Path root = Files.createDirectories(dataDir.resolve("workspaces"));
        Path marker = root.resolve(WorkspaceBinding.MARKER);
        List<Path> workspaces = seedOrphans(root, 6, 1, 3);
        try (ServerProcess server = ServerProcess.start(dataDir, teamMode(root, "--collab.sweeper.initial-delay=1h"))) {
            server.awaitReady();
            Api api = server.api();
            await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(api.get("/actuator/health")
                    .json()
                    .get("components")
                    .get("sweeper")
                    .get("details")
                    .get("binding")
                    .asString()).isEqualTo("unbound"));
            assertThat(marker).as("not bound at startup").doesNotExist();

            api.send(HttpRequest.newBuilder(api.uri("/actuator/sweeper")).POST(HttpRequest.BodyPublishers.noBody()));
            await().atMost(Duration.ofSeconds(60))
                .until(() -> api.get("/actuator/sweeper").json().get("lastRuns").size() > 0);
            JsonNode run = api.get("/actuator/sweeper").json().get("lastRuns").get(0);
            assertThat(run.get("stopped").asString()).isEqualTo("orphan-fraction");
            assertThat(run.get("unknown").asInt()).isEqualTo(6);
            assertThat(workspaces).as("nothing deleted").allMatch(Files::exists);
            assertThat(marker).as("nor bound by the stopped sweep").doesNotExist();
            JsonNode sweeper = api.get("/actuator/health").json().get("components").get("sweeper");
            assertThat(sweeper.get("status").asString()).isEqualTo("DOWN");
            assertThat(sweeper.get("details").get("binding").asString()).isEqualTo("unbound");
            assertThat(server.terminate(Duration.ofSeconds(60))).isIn(0, 143);
        }
    }

}
