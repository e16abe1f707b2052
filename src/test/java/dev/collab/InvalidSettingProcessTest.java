package dev.collab;

import java.nio.file.Path;
import java.time.Duration;

import dev.collab.support.ServerProcess;
import dev.collab.support.TempDirectories;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server as an operator starts it, with a {@code collab.*} value that breaks its
 * rule: exit code 1, one failure report that names the setting, no stack trace, and the
 * built-in database stopped again. ConfigurationValidationTest covers every rule
 * in-process.
 */
class InvalidSettingProcessTest {

    @Test
    void aValueThatBreaksItsRuleStopsTheServerWithOneReport() {
        Path dataDir = TempDirectories.create("badsetting-");
        try (ServerProcess server = ServerProcess.start(dataDir, "--collab.sweeper.min-age=30s")) {
            int exit = server.awaitExit(Duration.ofSeconds(120));
            String output = server.output();
            assertThat(exit).isEqualTo(1);
            assertThat(output.split("APPLICATION FAILED TO START", -1)).as("one report").hasSize(2);
            assertThat(output).contains("Property: collab.sweeper.minAge")
                .contains("Origin: \"collab.sweeper.min-age\" from property source \"commandLineArgs\"")
                .contains("Reason: must be longer than or equal to 1 minute")
                .doesNotContain("\tat ");
            assertThat(server.postmaster()).as("the built-in database stopped with the failed start").isEmpty();
        }
    }

}
