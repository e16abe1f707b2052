package dev.collab.checkout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.GitRepos;
import dev.collab.support.IntegrationTest;
import dev.collab.workspace.Workspaces;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The diff's performance target (issue 15): a repository of 5,000 files with 200 changed
 * (modified, added, deleted, renamed), {@code GET /api/sessions/{id}/diff} over HTTP in
 * at most 1 s (median of the rounds), beside plain {@code git diff --stat} of the same
 * workspace as the reference. Prints {@code BENCH} lines (also into
 * {@code target/bench/diff-bench.txt}), then fails if the target was missed.
 * <p>
 * Not part of {@code ./mvnw verify}: the name matches none of Surefire's default
 * patterns, and it only runs with {@code -Dbench=true}. Run it with
 * {@code src/bench/diff-bench.sh}.
 */
@IntegrationTest
@EnabledIfSystemProperty(named = "bench", matches = "true")
class DiffBenchmark {

    private static final int FILES = 5_000;

    private static final int ROUNDS = 9;

    private static final Duration TARGET = Duration.ofSeconds(1);

    @Autowired
    Api api;

    @Autowired
    Workspaces workspaces;

    @Test
    void theDiffOf200ChangedFilesIn5000IsUnderASecond() throws Exception {
        Map<String, String> files = new LinkedHashMap<>();
        for (int i = 0; i < FILES; i++) {
            StringBuilder content = new StringBuilder();
            for (int line = 0; line < 40; line++) {
                content.append("file ").append(i).append(" line ").append(line).append(" some ordinary source text\n");
            }
            files.put("module-" + (i % 50) + "/src/File" + i + ".java", content.toString());
        }
        Path bare = GitRepos.bare("bench.git", files);
        String key = "bench-" + Long.toString(System.nanoTime(), 36);
        assertThat(api.put("/api/projects/" + key, Api.json(Map.of("name", "bench", "repoUrl", GitRepos.url(bare))))
            .status()).isEqualTo(201);
        UUID session = api.newSession(key);
        assertThat(api.sendMessage(session, "hello", null).status()).isEqualTo(202);
        await().atMost(Duration.ofMinutes(2))
            .until(() -> api.get("/api/sessions/" + session + "/diff").json().get("status").asString().equals("ready"));
        Path ws = workspaces.directoryOf(session);
        List<String> paths = new ArrayList<>(files.keySet());
        // 200 changes: 110 modified, 30 added, 30 deleted, 30 renamed.
        for (int i = 0; i < 110; i++) {
            Path file = ws.resolve(paths.get(i * 7));
            Files.writeString(file, Files.readString(file).replace("line 5 ", "LINE FIVE ").replace("line 30 ", "x "));
        }
        for (int i = 0; i < 30; i++) {
            GitRepos.write(ws, Map.of("added/New" + i + ".java", "new file " + i + "\nwith two lines\n"));
            Files.delete(ws.resolve(paths.get(1001 + i * 3)));
            Path from = ws.resolve(paths.get(2001 + i * 3));
            Files.move(from, from.resolveSibling("Renamed" + i + ".java"));
        }

        List<Long> diffMillis = new ArrayList<>();
        List<Long> gitMillis = new ArrayList<>();
        JsonNode last = null;
        for (int round = 0; round <= ROUNDS; round++) {
            long started = System.nanoTime();
            Api.Response response = api.get("/api/sessions/" + session + "/diff");
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertThat(response.status()).as(response.toString()).isEqualTo(200);
            last = response.json();
            started = System.nanoTime();
            GitRepos.git(ws, "diff", "--stat", "-M", "HEAD");
            long git = (System.nanoTime() - started) / 1_000_000;
            if (round > 0) { // the first is the warm-up
                diffMillis.add(millis);
                gitMillis.add(git);
            }
        }
        assertThat(last.get("totals").get("files").asInt()).isEqualTo(200);
        assertThat(last.get("truncated").asBoolean()).isFalse();
        long median = percentile(diffMillis, 50);
        List<String> lines = List.of(
                "BENCH diff GET /diff (5000 files, 200 changed, " + ROUNDS + " rounds): median " + median + " ms, p95 "
                        + percentile(diffMillis, 95) + " ms, all " + diffMillis,
                "BENCH diff reference git diff --stat -M HEAD: median " + percentile(gitMillis, 50) + " ms, p95 "
                        + percentile(gitMillis, 95) + " ms",
                "BENCH " + (median <= TARGET.toMillis() ? "MET" : "MISSED") + " diff median " + median + " ms <= "
                        + TARGET.toMillis() + " ms");
        lines.forEach(System.out::println);
        Path out = Path.of("target/bench");
        Files.createDirectories(out);
        Files.write(out.resolve("diff-bench.txt"), lines);
        assertThat(median).as("median diff time, ms").isLessThanOrEqualTo(TARGET.toMillis());
    }

    private static long percentile(List<Long> values, int percent) {
        List<Long> sorted = values.stream().sorted().toList();
        int index = (int) Math.ceil(percent / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

}
