package dev.collab.run;

import java.time.Duration;
import java.util.List;

import dev.collab.support.SettingsStartup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code collab.runner.environment}: plain names only, never one of the server's own
 * variables; a startup that lists one stops with Spring Boot's binding report naming it.
 */
@ExtendWith(OutputCaptureExtension.class)
class RunnerPropertiesTest {

    static RunnerProperties withEnvironment(List<String> names) {
        return new RunnerProperties(List.of(), Duration.ofMinutes(30), Duration.ofSeconds(30), Duration.ofSeconds(3),
                Duration.ofMillis(30), 16384, 1 << 20, names, "text");
    }

    @ParameterizedTest
    @ValueSource(strings = { "SPRING_DATASOURCE_PASSWORD", "spring_datasource_url", "SPRING_PROFILES_ACTIVE",
            "COLLAB_DATABASE_URL", "collab_runner_command", "COLLAB_SESSION_ID", "DATABASE_URL", "PGPASSWORD",
            "pgpassfile" })
    void theServersVariablesAreRefused(String name, CapturedOutput output) {
        assertThat(SettingsStartup.failureReport(output, "--collab.runner.environment=PATH," + name))
            .contains("Property: collab.runner.environment[1]")
            .contains("Value: \"" + name + "\"")
            .contains("Reason: is one of the server's own variables (SPRING_*, COLLAB_*, DATABASE_URL, "
                    + "PGPASSWORD, PGPASSFILE), which agents never get")
            .doesNotContain("\tat ");
    }

    @ParameterizedTest
    @ValueSource(strings = { "A B", "X=1", "1ABC", "PATH;rm" })
    void somethingThatIsNotAVariableNameIsRefused(String name, CapturedOutput output) {
        assertThat(SettingsStartup.failureReport(output, "--collab.runner.environment=" + name))
            .contains("Property: collab.runner.environment[0]")
            .contains("Value: \"" + name + "\"")
            .contains("Reason: is not an environment variable name")
            .doesNotContain("\tat ");
    }

    @Test
    void namesLikeTheServersButNotTheirsAreAllowed() {
        assertThat(withEnvironment(List.of("PGHOST", "MY_SPRING_THING", "DATABASE_URL_OF_AGENT")).environment())
            .hasSize(3);
        SettingsStartup.start("--collab.runner.environment=PGHOST,MY_SPRING_THING,DATABASE_URL_OF_AGENT").close();
    }

    @Test
    void namesAreTrimmedAndBlanksIgnored() {
        assertThat(withEnvironment(List.of(" PATH ", "", "ANTHROPIC_API_KEY", "PATH")).environment())
            .containsExactly("PATH", "ANTHROPIC_API_KEY");
    }

}
