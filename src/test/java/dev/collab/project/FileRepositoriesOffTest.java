package dev.collab.project;

import java.util.Map;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code file://} repositories only where collab.workspace.allow-file-repos allows them
 * (off by default; the other tests turn it on).
 */
@IntegrationTest
@TestPropertySource(properties = "collab.workspace.allow-file-repos=false")
class FileRepositoriesOffTest {

    @Autowired
    Api api;

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

}
