package dev.collab.project;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.time.Duration;

import dev.collab.support.Api;
import dev.collab.support.GitRepos;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.TestPropertySource;

import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code file://} repositories only where collab.workspace.allow-file-repos allows them
 * (off by default; the other tests turn it on).
 */
@IntegrationTest
@TestPropertySource(properties = "collab.workspace.allow-file-repos=false")
class FileRepositoriesOffTest {

    @Autowired
    Api api;

    @Autowired
    JdbcClient jdbc;

    @Test
    void aFileUrlIsRefusedOnTheProject() {
        String key = "files-" + Long.toString(System.nanoTime(), 36);
        Api.Response refused = api.put("/api/projects/" + key,
                Api.json(Map.of("name", "f", "repoUrl", "file:///srv/repos/x.git")));
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.json().get("code").asString()).isEqualTo("validation-failed");
        assertThat(refused.json().get("errors").get(0).get("field").asString()).isEqualTo("repoUrl");
        assertThat(refused.json().get("errors").get(0).get("message").asString()).contains("file://", "not allowed");
        assertThat(api.get("/api/projects/" + key).status()).isEqualTo(404);
        assertThat(
                api.put("/api/projects/" + key, Api.json(Map.of("name", "f", "repoUrl", "https://git.example/x.git")))
                    .status())
            .isEqualTo(201);
    }

    @Test
    void aFileUrlSavedBeforeItWasTurnedOffIsNotCloned() {
        String key = "files-" + Long.toString(System.nanoTime(), 36);
        assertThat(
                api.put("/api/projects/" + key, Api.json(Map.of("name", "f", "repoUrl", "https://git.example/x.git")))
                    .status())
            .isEqualTo(201);
        // Saved while collab.workspace.allow-file-repos was on (another deployment's
        // settings): the clone must not read the server's disk now that it is off.
        jdbc.sql("update projects set repo_url = :url where key = :key")
            .param("url", GitRepos.url(GitRepos.bare("off.git", Map.of("a.txt", "a\n"))))
            .param("key", key)
            .update();
        UUID session = api.newSession(key);
        Api.Response sent = api.sendMessage(session, "hello", null);
        assertThat(sent.status()).as(sent.toString()).isEqualTo(202);
        String runId = sent.json().get("runId").asString();
        await().atMost(Duration.ofSeconds(30))
            .until(() -> events(session).stream()
                .anyMatch(e -> e.get("type").asString().equals("run.finished")
                        && e.get("data").get("runId").asString().equals(runId)));
        List<String> types = events(session).stream().map(e -> e.get("type").asString()).toList();
        assertThat(types).contains("workspace.preparing", "error").doesNotContain("workspace.ready");
        JsonNode error = events(session).stream()
            .filter(e -> e.get("type").asString().equals("error"))
            .findFirst()
            .orElseThrow()
            .get("data");
        assertThat(error.get("code").asString()).isEqualTo("workspace-failed");
    }

    List<JsonNode> events(UUID session) {
        List<JsonNode> items = new ArrayList<>();
        api.get("/api/sessions/" + session + "/events?limit=1000").json().get("items").forEach(items::add);
        return items;
    }

}
