package dev.collab.checkout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.GitRepos;
import dev.collab.support.IntegrationTest;
import dev.collab.support.TempDirectories;
import dev.collab.workspace.Workspaces;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A clone or a diff that does not end: git is a wrapper here that hangs (a child process
 * of its own sleeping) when the repository URL says so, or when the workspace holds a
 * {@code slow-diff} file, and is the real git otherwise.
 */
@IntegrationTest
class SlowGitTest {

    static final Duration WAIT = Duration.ofSeconds(60);

    static final Path PIDS = TempDirectories.create("slow-git-pids-");

    @DynamicPropertySource
    static void slowGit(DynamicPropertyRegistry registry) throws Exception {
        Path script = TempDirectories.create("slow-git-").resolve("git");
        Files.writeString(script, """
                #!/bin/sh
                for argument in "$@"; do
                  case "$argument" in
                    *slow-clone*) sleep 300 & echo $! > "%1$s/clone-$$"; wait; exit 1 ;;
                    *big-clone*) eval target=\\${$#}; mkdir -p "$target"; head -c 3000000 /dev/zero > "$target/big"
                      sleep 300 & echo $! > "%1$s/big-$$"; wait; exit 1 ;;
                  esac
                done
                if [ -e "$PWD/slow-diff" ]; then sleep 300 & echo $! > "%1$s/diff-$$"; wait; exit 1; fi
                exec git "$@"
                """.formatted(PIDS));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        registry.add("collab.workspace.git.executable", script::toString);
        // Long enough that the interrupt test's interrupt comes first on a loaded machine
        // (it would be a failed run then, not an interrupted one).
        registry.add("collab.workspace.git.clone-timeout", () -> "15s");
        registry.add("collab.workspace.git.diff-timeout", () -> "1s");
        registry.add("collab.workspace.git.clone-max-size", () -> "1MB");
    }

    @Autowired
    Api api;

    @Autowired
    Workspaces workspaces;

    UUID session(String repoUrl) {
        String key = "slow-" + Long.toString(System.nanoTime(), 36);
        assertThat(api.put("/api/projects/" + key, Api.json(Map.of("name", "slow", "repoUrl", repoUrl))).status())
            .isEqualTo(201);
        return api.newSession(key);
    }

    List<JsonNode> events(UUID session) {
        List<JsonNode> items = new ArrayList<>();
        api.get("/api/sessions/" + session + "/events?limit=1000").json().get("items").forEach(items::add);
        return items;
    }

    JsonNode last(UUID session, String type) {
        return events(session).stream()
            .filter(e -> e.get("type").asString().equals(type))
            .reduce((a, b) -> b)
            .orElseThrow()
            .get("data");
    }

    boolean has(UUID session, String type) {
        return events(session).stream().anyMatch(e -> e.get("type").asString().equals(type));
    }

    /** How many sleeping children the wrapper started (dead or alive). */
    static long pidFiles(String prefix) throws Exception {
        try (var files = Files.list(PIDS)) {
            return files.filter(f -> f.getFileName().toString().startsWith(prefix)).count();
        }
    }

    /** The sleeping children the wrapper started, by the pid files it wrote. */
    static List<ProcessHandle> sleepers(String prefix) throws Exception {
        List<ProcessHandle> sleepers = new ArrayList<>();
        try (var files = Files.list(PIDS)) {
            for (Path file : files.filter(f -> f.getFileName().toString().startsWith(prefix)).toList()) {
                String pid = Files.readString(file).strip();
                if (!pid.isEmpty()) {
                    ProcessHandle.of(Long.parseLong(pid)).ifPresent(sleepers::add);
                }
            }
        }
        return sleepers;
    }

    @Test
    void anInterruptStopsTheCloneAndEverythingItStarted() throws Exception {
        Path bare = GitRepos.bare("slow-clone-interrupt.git", Map.of("a.txt", "a\n"));
        UUID session = session(GitRepos.url(bare));
        assertThat(api.sendMessage(session, "hello", null).status()).isEqualTo(202);
        await().atMost(WAIT).until(() -> has(session, "workspace.preparing") && !sleepers("clone-").isEmpty());
        List<ProcessHandle> started = sleepers("clone-");
        assertThat(api.interrupt(session).status()).isEqualTo(202);
        await().atMost(WAIT).until(() -> has(session, "run.finished"));
        assertThat(last(session, "run.finished").get("status").asString()).isEqualTo("interrupted");
        assertThat(has(session, "workspace.ready")).isFalse();
        await().atMost(WAIT).until(() -> started.stream().noneMatch(ProcessHandle::isAlive));
        await().atMost(WAIT)
            .until(() -> api.get("/api/sessions/" + session).json().get("state").asString().equals("IDLE"));
    }

    @Test
    void aCloneLongerThanTheTimeoutFailsTheRun() {
        Path bare = GitRepos.bare("slow-clone-timeout.git", Map.of("a.txt", "a\n"));
        UUID session = session(GitRepos.url(bare));
        assertThat(api.sendMessage(session, "hello", null).status()).isEqualTo(202);
        await().atMost(WAIT).until(() -> has(session, "run.finished"));
        assertThat(last(session, "run.finished").get("status").asString()).isEqualTo("failed");
        JsonNode error = last(session, "error");
        assertThat(error.get("code").asString()).isEqualTo("workspace-failed");
        assertThat(error.get("message").asString()).contains("took longer than");
    }

    @Test
    void aCloneLargerThanAllowedIsStoppedAndFailsTheRun() throws Exception {
        Path bare = GitRepos.bare("big-clone.git", Map.of("a.txt", "a\n"));
        UUID session = session(GitRepos.url(bare));
        assertThat(api.sendMessage(session, "hello", null).status()).isEqualTo(202);
        await().atMost(WAIT).until(() -> has(session, "run.finished"));
        assertThat(last(session, "run.finished").get("status").asString()).isEqualTo("failed");
        JsonNode error = last(session, "error");
        assertThat(error.get("code").asString()).isEqualTo("workspace-failed");
        assertThat(error.get("message").asString()).contains("larger than");
        await().atMost(WAIT).until(() -> sleepers("big-").stream().noneMatch(ProcessHandle::isAlive));
    }

    @Test
    void aDiffLongerThanItsTimeoutIsA503AndItsGitIsStopped() throws Exception {
        Path bare = GitRepos.bare("quick.git", Map.of("a.txt", "a\n"));
        UUID session = session(GitRepos.url(bare));
        assertThat(api.sendMessage(session, "hello", null).status()).isEqualTo(202);
        await().atMost(WAIT)
            .until(() -> has(session, "run.finished")
                    && api.get("/api/sessions/" + session).json().get("state").asString().equals("IDLE"));
        assertThat(last(session, "run.finished").get("status").asString()).isEqualTo("succeeded");
        Files.writeString(workspaces.directoryOf(session).resolve("slow-diff"), "");

        Api.Response slow = api.get("/api/sessions/" + session + "/diff");
        assertThat(slow.status()).as(slow.toString()).isEqualTo(503);
        assertThat(slow.json().get("code").asString()).isEqualTo("diff-timeout");
        assertThat(slow.header("Retry-After")).isPresent();
        // Its pid file, not its process: the timeout may have killed it already.
        await().atMost(WAIT).until(() -> pidFiles("diff-") > 0);
        await().atMost(WAIT).until(() -> sleepers("diff-").stream().noneMatch(ProcessHandle::isAlive));

        Files.delete(workspaces.directoryOf(session).resolve("slow-diff"));
        // The timeout is tiny (1s) for every diff here: a loaded machine may need a
        // retry.
        await().atMost(WAIT).until(() -> api.get("/api/sessions/" + session + "/diff").status() == 200);
    }

}
