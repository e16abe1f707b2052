package dev.collab.checkout;

import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.GitRepos;
import dev.collab.support.IntegrationTest;
import dev.collab.workspace.Workspaces;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A diff past its limits says so: fewer files, fewer lines, {@code truncated}. */
@IntegrationTest
@TestPropertySource(properties = { "collab.workspace.git.diff-max-files=3", "collab.workspace.git.diff-max-lines=5" })
class DiffLimitsTest {

    @Autowired
    Api api;

    @Autowired
    Workspaces workspaces;

    @Test
    void aLargeDiffIsTruncatedAndItsTotalsCountEverything() throws Exception {
        Map<String, String> files = Map.of("a.txt", "a\n", "b.txt", "b\n", "c.txt", "c\n", "d.txt", "d\n", "e.txt",
                "e\n");
        String key = "limits-" + Long.toString(System.nanoTime(), 36);
        assertThat(api
            .put("/api/projects/" + key,
                    Api.json(Map.of("name", "limits", "repoUrl", GitRepos.url(GitRepos.bare("limits.git", files)))))
            .status()).isEqualTo(201);
        UUID session = api.newSession(key);
        assertThat(api.sendMessage(session, "hello", null).status()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30))
            .until(() -> api.get("/api/sessions/" + session + "/diff").json().get("status").asString().equals("ready"));
        for (String name : files.keySet()) {
            Files.writeString(workspaces.directoryOf(session).resolve(name), "one\ntwo\nthree\n");
        }

        JsonNode diff = api.checkingRequests().get("/api/sessions/" + session + "/diff").json();
        assertThat(diff.get("truncated").asBoolean()).isTrue();
        assertThat(diff.get("files")).hasSize(3);
        assertThat(diff.get("totals").get("files").asInt()).isEqualTo(5);
        assertThat(diff.get("totals").get("additions").asInt()).isEqualTo(15);
        assertThat(diff.get("totals").get("deletions").asInt()).isEqualTo(5);
        JsonNode first = diff.get("files").get(0);
        assertThat(first.get("path").asString()).isEqualTo("a.txt");
        assertThat(first.get("truncated").asBoolean()).isFalse();
        assertThat(first.get("hunks").get(0).get("lines")).hasSize(4);
        JsonNode second = diff.get("files").get(1);
        assertThat(second.get("truncated").asBoolean()).isTrue();
        assertThat(second.get("hunks").get(0).get("lines")).hasSize(1);
        assertThat(second.get("additions").asInt()).isEqualTo(3);
        assertThat(diff.get("files").get(2).get("truncated").asBoolean()).isTrue();
    }

}
