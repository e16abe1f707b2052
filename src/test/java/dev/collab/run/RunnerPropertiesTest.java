package dev.collab.run;

import java.time.Duration;
import java.util.List;

import dev.collab.ops.StartupCheckException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code collab.runner.environment}: plain names only, never one of the server's own variables. */
class RunnerPropertiesTest {

    static RunnerProperties withEnvironment(List<String> names) {
        return new RunnerProperties(List.of(), Duration.ofMinutes(30), Duration.ofSeconds(30), Duration.ofSeconds(3),
                Duration.ofMillis(30), 16384, 1 << 20, names);
    }

    @ParameterizedTest
    @ValueSource(strings = {"SPRING_DATASOURCE_PASSWORD", "spring_datasource_url", "SPRING_PROFILES_ACTIVE",
            "COLLAB_DATABASE_URL", "collab_runner_command", "COLLAB_SESSION_ID", "DATABASE_URL", "PGPASSWORD",
            "pgpassfile"})
    void theServersVariablesAreRefused(String name) {
        assertThatThrownBy(() -> withEnvironment(List.of("PATH", name)))
                .isInstanceOf(StartupCheckException.class)
                .hasMessageContaining("collab.runner.environment lists " + name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"A B", "X=1", "1ABC", "PATH;rm"})
    void somethingThatIsNotAVariableNameIsRefused(String name) {
        assertThatThrownBy(() -> withEnvironment(List.of(name)))
                .isInstanceOf(StartupCheckException.class)
                .hasMessageContaining("not an environment variable name");
    }

    @Test
    void namesAreTrimmedAndBlanksIgnored() {
        assertThat(withEnvironment(List.of(" PATH ", "", "ANTHROPIC_API_KEY", "PATH")).environment())
                .containsExactly("PATH", "ANTHROPIC_API_KEY");
    }
}
