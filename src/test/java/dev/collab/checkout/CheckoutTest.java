package dev.collab.checkout;

import java.nio.file.Files;
import java.nio.file.Path;
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
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The project's repository cloned as the first step of a run, over real HTTP, with real
 * git and local bare repositories made here.
 */
@IntegrationTest
@TestPropertySource(
        properties = { "collab.workspace.git.https-token=tok-SECRET-123", "collab.workspace.git.https-username=robot" })
class CheckoutTest {

    static final Duration WAIT = Duration.ofSeconds(30);

    @Autowired
    Api api;

    @Autowired
    Workspaces workspaces;

    String project(String repoUrl) {
        String key = "co-" + Long.toString(System.nanoTime(), 36);
        Api.Response created = api.checkingRequests()
            .put("/api/projects/" + key, Api.json(Map.of("name", "checkout", "repoUrl", repoUrl)));
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        return key;
    }

    List<JsonNode> events(UUID session) {
        List<JsonNode> items = new ArrayList<>();
        api.get("/api/sessions/" + session + "/events?limit=1000").json().get("items").forEach(items::add);
        return items;
    }

    /** Sends and waits for the run's run.finished; returns the run's events, in order. */
    List<JsonNode> run(UUID session, String text) {
        Api.Response sent = api.sendMessage(session, text, null);
        assertThat(sent.status()).as(sent.toString()).isEqualTo(202);
        String runId = sent.json().get("runId").asString();
        await().atMost(WAIT)
            .until(() -> events(session).stream()
                .anyMatch(e -> e.get("type").asString().equals("run.finished")
                        && e.get("data").get("runId").asString().equals(runId)));
        await().atMost(WAIT)
            .until(() -> api.get("/api/sessions/" + session).json().get("state").asString().equals("IDLE"));
        return events(session).stream().filter(e -> runId.equals(e.get("data").path("runId").asString(null))).toList();
    }

    static List<String> types(List<JsonNode> events) {
        return events.stream().map(e -> e.get("type").asString()).toList();
    }

    static String stdout(List<JsonNode> events) {
        StringBuilder text = new StringBuilder();
        events.stream()
            .filter(e -> e.get("type").asString().equals("output"))
            .forEach(e -> text.append(e.get("data").get("text").asString()));
        return text.toString();
    }

    static JsonNode first(List<JsonNode> events, String type) {
        return events.stream().filter(e -> e.get("type").asString().equals(type)).findFirst().orElseThrow().get("data");
    }

    @Test
    void theFirstRunClonesOnABranchOfTheSessionAndTheSecondDoesNotCloneAgain() throws Exception {
        Path bare = GitRepos.bare("first.git", Map.of("README.md", "hello\n", "src/a.txt", "a\n"));
        String head = GitRepos.git(bare, "rev-parse", "HEAD").strip();
        UUID session = api.newSession(project(GitRepos.url(bare)));

        List<JsonNode> firstRun = run(session, "env");
        assertThat(types(firstRun)).startsWith("run.started", "workspace.preparing", "workspace.ready")
            .endsWith("run.finished")
            .doesNotContain("error");
        JsonNode preparing = first(firstRun, "workspace.preparing");
        assertThat(preparing.get("repoUrl").asString()).isEqualTo(GitRepos.url(bare));
        assertThat(preparing.get("branch").asString()).isEqualTo("collab/" + session);
        JsonNode ready = first(firstRun, "workspace.ready");
        assertThat(ready.get("baseCommit").asString()).isEqualTo(head);
        assertThat(ready.get("branch").asString()).isEqualTo("collab/" + session);
        assertThat(first(firstRun, "run.finished").get("status").asString()).isEqualTo("succeeded");

        Path workspace = workspaces.directoryOf(session);
        assertThat(stdout(firstRun)).contains("pwd=" + workspace);
        assertThat(workspace.resolve("src/a.txt")).hasContent("a");
        assertThat(GitRepos.git(workspace, "rev-parse", "--abbrev-ref", "HEAD").strip()).isEqualTo("collab/" + session);
        assertThat(workspace.resolve(".git/info/exclude")).content().contains(".collab/");

        // The agent's work stays: the second run does not clone again.
        Files.writeString(workspace.resolve("work.txt"), "in progress");
        List<JsonNode> secondRun = run(session, "hello");
        assertThat(types(secondRun)).doesNotContain("workspace.preparing", "workspace.ready", "error");
        assertThat(workspace.resolve("work.txt")).hasContent("in progress");
    }

    @Test
    void aFailedCloneFailsTheRunAndTheNextRunRetriesFromAnEmptyDirectory() throws Exception {
        Path missing = TempDirectories.create("git-later-").resolve("later.git");
        String project = project(GitRepos.url(missing));
        UUID session = api.newSession(project);

        List<JsonNode> failed = run(session, "hello");
        assertThat(types(failed)).containsSubsequence("run.started", "workspace.preparing", "error", "run.finished")
            .doesNotContain("workspace.ready", "output");
        JsonNode error = first(failed, "error");
        assertThat(error.get("code").asString()).isEqualTo("workspace-failed");
        assertThat(error.get("message").asString()).contains("clone")
            .doesNotContain(missing.toString(), "tok-SECRET-123");
        assertThat(first(failed, "run.finished").get("status").asString()).isEqualTo("failed");
        assertThat(api.get("/api/sessions/" + session + "/diff").json().get("status").asString())
            .isEqualTo("no-repository");

        // Leftovers of the failed attempt do not stop the next one.
        Files.writeString(workspaces.directoryOf(session).resolve("leftover.txt"), "x");
        Path bare = GitRepos.bare("later.git", Map.of("file.txt", "content\n"));
        Files.createDirectories(missing.getParent());
        GitRepos.git(bare.getParent(), "clone", "-q", "--bare", "--", bare.toString(), missing.toString());
        List<JsonNode> retried = run(session, "hello");
        assertThat(types(retried)).containsSubsequence("workspace.preparing", "workspace.ready", "run.finished");
        assertThat(first(retried, "run.finished").get("status").asString()).isEqualTo("succeeded");
        assertThat(workspaces.directoryOf(session).resolve("file.txt")).exists();
        assertThat(workspaces.directoryOf(session).resolve("leftover.txt")).doesNotExist();

        assertThat(api.delete("/api/sessions/" + session).status()).isEqualTo(204);
    }

    @Test
    void aSessionWhoseCloneFailedCanBeEnded() {
        UUID session = api.newSession(project("file:///nonexistent/repository.git"));
        assertThat(first(run(session, "hello"), "error").get("code").asString()).isEqualTo("workspace-failed");
        assertThat(api.delete("/api/sessions/" + session).status()).isEqualTo(204);
        assertThat(api.get("/api/sessions/" + session).json().get("state").asString()).isEqualTo("ENDED");
    }

    @Test
    void theAgentSeesNoCredentials() throws Exception {
        Path bare = GitRepos.bare("creds.git", Map.of("a.txt", "a\n"));
        UUID session = api.newSession(project(GitRepos.url(bare)));
        String seen = stdout(run(session, "showenv"));
        assertThat(seen).contains("--- .git/config", "--- end", "url = " + GitRepos.url(bare))
            .doesNotContain("tok-SECRET-123", "robot", "Authorization", "extraHeader", "GIT_CONFIG", "GIT_SSH");
        Path workspace = workspaces.directoryOf(session);
        try (var files = Files.walk(workspace.resolve(".git"))) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertThat(Files.readAllBytes(file)).asString().as(file.toString()).doesNotContain("tok-SECRET-123");
            }
        }
    }

    @Test
    void aRepositoryAddedToTheProjectLaterDoesNotWipeTheAgentsWork() throws Exception {
        String key = api.newProject("later");
        UUID session = api.newSession(key);
        run(session, "hello");
        Files.writeString(workspaces.directoryOf(session).resolve("notes.txt"), "the agent's work");
        Path bare = GitRepos.bare("added-later.git", Map.of("a.txt", "a\n"));
        assertThat(api.put("/api/projects/" + key, Api.json(Map.of("name", "later", "repoUrl", GitRepos.url(bare))))
            .status()).isEqualTo(200);
        JsonNode error = first(run(session, "hello"), "error");
        assertThat(error.get("code").asString()).isEqualTo("workspace-failed");
        assertThat(error.get("message").asString()).contains("new session");
        assertThat(workspaces.directoryOf(session).resolve("notes.txt")).hasContent("the agent's work");
    }

    @Test
    void aProjectWithoutRepositoryRunsInThePlainWorkspace() {
        UUID session = api.newSession(api.newProject("plain"));
        List<JsonNode> events = run(session, "hello");
        assertThat(types(events)).doesNotContain("workspace.preparing", "workspace.ready", "error");
        assertThat(api.get("/api/sessions/" + session + "/diff").json().get("status").asString())
            .isEqualTo("no-repository");
    }

}
