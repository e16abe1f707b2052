package dev.collab.ops;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import dev.collab.support.ServerProcess;
import dev.collab.support.TempDirectories;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A configuration that cannot work stops the server with one clear line and a non-zero exit. */
class StartupFailureProcessIT {

    @Test
    void unwritableWorkspaceRootFailsWithOneClearLine() throws Exception {
        Path dataDir = TempDirectories.create("badroot-");
        Path aFile = Files.writeString(dataDir.resolve("not-a-directory"), "x");
        try (ServerProcess server = ServerProcess.start(dataDir, "--collab.workspace.root=" + aFile.resolve("workspaces"))) {
            int exit = server.awaitExit(Duration.ofSeconds(120));
            String output = server.output();
            assertThat(exit).isNotZero();
            assertThat(output).contains("Cannot create directory " + aFile.resolve("workspaces"))
                    .contains("Set collab.workspace.root to a directory");
            assertThat(output).doesNotContain("\tat ");
            assertThat(server.postmaster()).as("the built-in database stopped with the failed start").isEmpty();
        }
    }

    @Test
    void unreachableTeamDatabaseFailsWithOneClearLine() {
        Path dataDir = TempDirectories.create("nodb-");
        try (ServerProcess server = ServerProcess.start(dataDir,
                "--spring.datasource.url=jdbc:postgresql://127.0.0.1:1/collab?password=hunter2")) {
            int exit = server.awaitExit(Duration.ofSeconds(120));
            String output = server.output();
            assertThat(exit).isNotZero();
            assertThat(output).contains("Cannot connect to the database at jdbc:postgresql://127.0.0.1:1/collab:")
                    .contains("Check spring.datasource.url");
            assertThat(output).doesNotContain("hunter2").doesNotContain("\tat ");
            assertThat(Files.exists(dataDir.resolve("postgres"))).as("team mode starts no embedded database").isFalse();
        }
    }

    @Test
    void aPoolWithoutAutocommitFailsWithOneClearLine() {
        Path dataDir = TempDirectories.create("autocommit-");
        try (ServerProcess server = ServerProcess.start(dataDir, "--spring.datasource.hikari.auto-commit=false")) {
            int exit = server.awaitExit(Duration.ofSeconds(120));
            String output = server.output();
            assertThat(exit).isNotZero();
            assertThat(output).contains("spring.datasource.hikari.auto-commit is false")
                    .contains("Remove spring.datasource.hikari.auto-commit");
            assertThat(output).doesNotContain("\tat ");
            assertThat(server.postmaster()).as("the built-in database stopped with the failed start").isEmpty();
        }
    }

    @Test
    void unknownLogFormatFailsWithOneClearLine() {
        Path dataDir = TempDirectories.create("logformat-");
        try (ServerProcess server = ServerProcess.start(Map.of("LOG_FORMAT", "xml"), dataDir)) {
            int exit = server.awaitExit(Duration.ofSeconds(120));
            String output = server.output();
            assertThat(exit).isNotZero();
            assertThat(output).contains("LOG_FORMAT is 'xml', which is not a log format: use json or text.")
                    .contains("Set LOG_FORMAT to json");
            assertThat(output).doesNotContain("\tat ");
            assertThat(Files.exists(dataDir.resolve("postgres"))).as("stopped before anything started").isFalse();
        }
    }
}
