package dev.collab.access;

import java.nio.file.Path;

import dev.collab.support.Api;
import dev.collab.support.ServerProcess;
import dev.collab.support.TempDirectories;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's run: built-in mode with {@code collab.auth.first-admin.*} creates the
 * first admin, who can log in at once; a restart does not create them again; a short
 * password stops the server with one clear line.
 */
class FirstAdminProcessIT {

    @Test
    void theFirstAdminPropertiesCreateAnAdminWhoCanLogIn() {
        Path dataDir = TempDirectories.create("first-admin-");
        try (ServerProcess server = ServerProcess
            .start(dataDir, "--collab.auth.first-admin.login=owner",
                    "--collab.auth.first-admin.password=owner password 1")
            .awaitReady()) {
            Api owner = server.api().anonymous().as("owner", "owner password 1");
            assertThat(owner.get("/api/me").json().path("admin").asBoolean()).isTrue();
            server.awaitOutput("collab-server is ready: open http://localhost:" + server.api().uri("/").getPort()
                    + "/ in a browser.");
            assertThat(server.output()).contains("Created the first server admin 'owner'")
                .doesNotContain("owner password 1")
                .doesNotContain("/setup?token=");
        }
    }

    @Test
    void aFirstAdminPasswordShorterThan12CharactersStopsTheServer() {
        Path dataDir = TempDirectories.create("short-admin-");
        try (ServerProcess server = ServerProcess.start(dataDir, "--collab.auth.first-admin.login=owner",
                "--collab.auth.first-admin.password=Sh0rt!x")) {
            int exit = server.awaitExit(java.time.Duration.ofSeconds(120));
            assertThat(exit).isNotZero();
            assertThat(server.output()).contains("collab.auth.first-admin.password")
                // A distinctive value: found in any form of a leak ("Value:
                // \"Sh0rt!x\"").
                .doesNotContain("Sh0rt!x");
        }
    }

}
