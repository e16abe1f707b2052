package dev.collab.checkout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import dev.collab.support.Api;
import dev.collab.support.GitRepos;
import dev.collab.support.IntegrationTest;
import dev.collab.support.TempDirectories;
import dev.collab.workspace.Workspaces;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code GET /api/sessions/{id}/diff} over real HTTP on a real clone: what the agent
 * changed (tracked and untracked, renames, binary files, no newline at the end), never
 * the server's {@code .collab/}, without running what the agent planted in the
 * repository's configuration, and only for those who may read the session.
 */
@IntegrationTest
// The same settings as CheckoutTest: one server for both.
@TestPropertySource(
        properties = { "collab.workspace.git.https-token=tok-SECRET-123", "collab.workspace.git.https-username=robot" })
class DiffTest {

    static final Duration WAIT = Duration.ofSeconds(30);

    static final String TWENTY_LINES = IntStream.rangeClosed(1, 20)
        .mapToObj(i -> "line " + i + "\n")
        .collect(Collectors.joining());

    @Autowired
    Api api;

    @Autowired
    Workspaces workspaces;

    @Autowired
    JdbcClient jdbc;

    record Cloned(String project, UUID session, Path workspace, String baseCommit) {
    }

    /** A session whose first run cloned a repository with these files. */
    Cloned cloned(Map<String, ?> files) {
        Path bare = GitRepos.bare("diff.git", files);
        String key = "diff-" + Long.toString(System.nanoTime(), 36);
        assertThat(api.put("/api/projects/" + key, Api.json(Map.of("name", "diff", "repoUrl", GitRepos.url(bare))))
            .status()).isEqualTo(201);
        UUID session = api.newSession(key);
        assertThat(api.sendMessage(session, "hello", null).status()).isEqualTo(202);
        await().atMost(WAIT)
            .until(() -> api.get("/api/sessions/" + session + "/diff").json().get("status").asString().equals("ready")
                    && api.get("/api/sessions/" + session).json().get("state").asString().equals("IDLE"));
        return new Cloned(key, session, workspaces.directoryOf(session),
                GitRepos.git(bare, "rev-parse", "HEAD").strip());
    }

    JsonNode diff(UUID session) {
        Api.Response response = api.checkingRequests().get("/api/sessions/" + session + "/diff");
        assertThat(response.status()).as(response.toString()).isEqualTo(200);
        return response.json();
    }

    static Map<String, JsonNode> byPath(JsonNode diff) {
        Map<String, JsonNode> files = new HashMap<>();
        diff.get("files").forEach(file -> files.put(file.get("path").asString(), file));
        return files;
    }

    static List<String> lines(JsonNode file) {
        List<String> lines = new ArrayList<>();
        file.get("hunks").forEach(hunk -> hunk.get("lines").forEach(line -> lines.add(line.asString())));
        return lines;
    }

    @Test
    void showsWhatTheAgentChangedAgainstTheBaseCommit() throws Exception {
        byte[] image = new byte[600];
        for (int i = 0; i < image.length; i++) {
            image[i] = (byte) (i % 7 == 0 ? 0 : i);
        }
        Cloned c = cloned(Map.of("modify.txt", "one\ntwo\nthree\n", "delete.txt", "gone soon\n", "rename-me.txt",
                TWENTY_LINES, "nonewline.txt", "a\nb", "image.bin", image, "keep.txt", "kept\n"));
        assertThat(diff(c.session()).get("files")).isEmpty();

        Path ws = c.workspace();
        Files.writeString(ws.resolve("modify.txt"), "one\nTWO\nthree\n");
        Files.delete(ws.resolve("delete.txt"));
        Files.move(ws.resolve("rename-me.txt"), ws.resolve("renamed.txt"));
        Files.writeString(ws.resolve("added.txt"), "new\n");
        Files.writeString(ws.resolve("nonewline.txt"), "a\nc");
        image[1] = 99;
        Files.write(ws.resolve("image.bin"), image);
        GitRepos.write(ws, Map.of("dir/café ü.txt", "unicode\n", ".collab/state.json", "{\"agent\":1}"));
        byte[] agentIndex = Files.readAllBytes(ws.resolve(".git/index"));

        JsonNode diff = diff(c.session());
        assertThat(diff.get("status").asString()).isEqualTo("ready");
        assertThat(diff.get("baseCommit").asString()).isEqualTo(c.baseCommit());
        assertThat(diff.get("branch").asString()).isEqualTo("collab/" + c.session());
        assertThat(diff.get("truncated").asBoolean()).isFalse();
        Map<String, JsonNode> files = byPath(diff);
        assertThat(files).containsOnlyKeys("modify.txt", "delete.txt", "renamed.txt", "added.txt", "nonewline.txt",
                "image.bin", "dir/café ü.txt");

        JsonNode modified = files.get("modify.txt");
        assertThat(modified.get("status").asString()).isEqualTo("modified");
        assertThat(modified.get("additions").asInt()).isEqualTo(1);
        assertThat(modified.get("deletions").asInt()).isEqualTo(1);
        assertThat(modified.get("oldPath").isNull()).isTrue();
        JsonNode hunk = modified.get("hunks").get(0);
        assertThat(hunk.get("header").asString()).startsWith("@@ -1,3 +1,3 @@");
        assertThat(hunk.get("oldStart").asInt()).isEqualTo(1);
        assertThat(hunk.get("newLines").asInt()).isEqualTo(3);
        assertThat(lines(modified)).containsExactly(" one", "-two", "+TWO", " three");

        assertThat(files.get("delete.txt").get("status").asString()).isEqualTo("deleted");
        assertThat(lines(files.get("delete.txt"))).containsExactly("-gone soon");
        assertThat(files.get("renamed.txt").get("status").asString()).isEqualTo("renamed");
        assertThat(files.get("renamed.txt").get("oldPath").asString()).isEqualTo("rename-me.txt");
        assertThat(files.get("renamed.txt").get("hunks")).isEmpty();
        assertThat(files.get("added.txt").get("status").asString()).isEqualTo("added");
        assertThat(lines(files.get("added.txt"))).containsExactly("+new");
        assertThat(lines(files.get("nonewline.txt"))).containsExactly(" a", "-b", "\\ No newline at end of file", "+c",
                "\\ No newline at end of file");
        JsonNode binary = files.get("image.bin");
        assertThat(binary.get("binary").asBoolean()).isTrue();
        assertThat(binary.get("hunks")).isEmpty();
        assertThat(lines(files.get("dir/café ü.txt"))).containsExactly("+unicode");

        assertThat(diff.get("totals").get("files").asInt()).isEqualTo(7);
        assertThat(diff.get("totals").get("additions").asInt()).isEqualTo(4);
        assertThat(diff.get("totals").get("deletions").asInt()).isEqualTo(3);
        // The agent's own index is untouched: its next git status sees what it did.
        assertThat(Files.readAllBytes(ws.resolve(".git/index"))).isEqualTo(agentIndex);
        assertThat(GitRepos.git(ws, "status", "--porcelain")).contains("?? added.txt").doesNotContain(".collab");
    }

    @Test
    void whatTheAgentPlantedInTheRepositoryDoesNotRun() throws Exception {
        Cloned c = cloned(Map.of("a.txt", "a\n"));
        Path ws = c.workspace();
        Path markers = TempDirectories.create("planted-");
        // A clean filter for every file, a hook run on index changes, an fsmonitor
        // hook, an external diff driver: each would leave its marker.
        Files.writeString(ws.resolve(".gitattributes"), "* filter=evil diff=evil\n");
        GitRepos.git(ws, "config", "filter.evil.clean", "touch " + markers.resolve("clean") + "; cat");
        GitRepos.git(ws, "config", "filter.evil.process", "touch " + markers.resolve("process"));
        GitRepos.git(ws, "config", "filter.evil.required", "true");
        GitRepos.git(ws, "config", "diff.evil.command", "touch " + markers.resolve("diff"));
        GitRepos.git(ws, "config", "diff.evil.textconv", "touch " + markers.resolve("textconv"));
        GitRepos.git(ws, "config", "diff.external", "touch " + markers.resolve("external"));
        Path hooks = Files.createDirectories(ws.resolve(".git/evil-hooks"));
        for (String hook : List.of("post-index-change", "fsmonitor")) {
            Path script = hooks.resolve(hook);
            Files.writeString(script, "#!/bin/sh\ntouch " + markers.resolve(hook) + "\n");
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        }
        GitRepos.git(ws, "config", "core.hooksPath", hooks.toString());
        GitRepos.git(ws, "config", "core.fsmonitor", hooks.resolve("fsmonitor").toString());
        GitRepos.git(ws, "config", "core.worktree", "/");
        Files.writeString(ws.resolve("a.txt"), "changed\n");

        JsonNode diff = diff(c.session());
        assertThat(byPath(diff)).containsOnlyKeys("a.txt", ".gitattributes");
        assertThat(lines(byPath(diff).get("a.txt"))).containsExactly("-a", "+changed");
        try (var planted = Files.list(markers)) {
            assertThat(planted.toList()).as("markers of what ran").isEmpty();
        }
    }

    @Test
    void aPlantedPromisorRemoteIsNeverFetchedFrom() throws Exception {
        Cloned c = cloned(Map.of("a.txt", "a\n"));
        Path ws = c.workspace();
        Path markers = TempDirectories.create("planted-");
        // A partial clone whose promisor remote is a command (ext::), and the objects the
        // diff needs gone: git would fetch them lazily, running the command, unless no
        // transport is allowed at all (the agent's configuration allows ext).
        GitRepos.git(ws, "config", "core.repositoryformatversion", "1");
        GitRepos.git(ws, "config", "extensions.partialClone", "origin");
        GitRepos.git(ws, "config", "remote.origin.promisor", "true");
        GitRepos.git(ws, "config", "protocol.ext.allow", "always");
        GitRepos.git(ws, "config", "protocol.allow", "always");
        GitRepos.git(ws, "config", "remote.origin.url", "ext::sh -c touch% " + markers.resolve("fetched"));
        Path away = TempDirectories.create("objects-");
        try (var objects = Files.list(ws.resolve(".git/objects"))) {
            for (Path entry : objects.toList()) {
                if (entry.getFileName().toString().equals("pack")) {
                    try (var packs = Files.list(entry)) {
                        for (Path pack : packs.toList()) {
                            Files.move(pack, away.resolve(pack.getFileName()));
                        }
                    }
                }
                else if (!entry.getFileName().toString().equals("info")) {
                    Files.move(entry, away.resolve(entry.getFileName()));
                }
            }
        }
        Files.writeString(ws.resolve("a.txt"), "changed\n");

        Api.Response response = api.get("/api/sessions/" + c.session() + "/diff");
        assertThat(response.status()).as(response.toString()).isEqualTo(503);
        try (var planted = Files.list(markers)) {
            assertThat(planted.toList()).as("markers of what ran").isEmpty();
        }
    }

    @Test
    void viewersMayReadItOthersGetNotFound() {
        Cloned c = cloned(Map.of("a.txt", "a\n"));
        String password = "a-long-test-password";
        String viewer = "viewer-" + Long.toString(System.nanoTime(), 36);
        UUID viewerId = api.createUser(viewer, password, false);
        jdbc.sql("insert into project_members (project_key, user_id, role) values (:p, :u, 'viewer')")
            .param("p", c.project())
            .param("u", viewerId)
            .update();
        String stranger = "stranger-" + Long.toString(System.nanoTime(), 36);
        api.createUser(stranger, password, false);

        assertThat(api.as(viewer, password).get("/api/sessions/" + c.session() + "/diff").status()).isEqualTo(200);
        Api.Response hidden = api.as(stranger, password).get("/api/sessions/" + c.session() + "/diff");
        Api.Response missing = api.as(stranger, password).get("/api/sessions/" + UUID.randomUUID() + "/diff");
        assertThat(hidden.status()).isEqualTo(404);
        assertThat(hidden.json().get("code").asString()).isEqualTo("not-found");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(api.get("/api/sessions/not-a-uuid/diff").status()).isEqualTo(400);
    }

    @Test
    void anEndedSessionsDiffIsGone() {
        Cloned c = cloned(Map.of("a.txt", "a\n"));
        assertThat(api.delete("/api/sessions/" + c.session()).status()).isEqualTo(204);
        JsonNode diff = diff(c.session());
        assertThat(diff.get("status").asString()).isEqualTo("gone");
        assertThat(diff.get("files")).isEmpty();
    }

    @Test
    void aLongLineIsCut() throws Exception {
        Cloned c = cloned(Map.of("a.txt", "a\n"));
        Files.writeString(c.workspace().resolve("a.txt"), "x".repeat(10_000) + "\n", StandardCharsets.UTF_8);
        JsonNode file = byPath(diff(c.session())).get("a.txt");
        assertThat(file.get("truncated").asBoolean()).isTrue();
        assertThat(lines(file)).hasSize(2);
        assertThat(lines(file).get(1)).hasSize(DiffParser.MAX_LINE_CHARS).startsWith("+xxx");
    }

}
