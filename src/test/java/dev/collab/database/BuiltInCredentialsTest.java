package dev.collab.database;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * The single-user backend is waited for with a timeout; the password check tells a
 * foreign password file.
 */
class BuiltInCredentialsTest {

    @Test
    void aBackendThatHangsIsGivenUpAfterTheWaitEvenWhileItHoldsItsOutputOpen() {
        // Reading the output to its end first would wait for the whole minute.
        assertTimeoutPreemptively(Duration.ofSeconds(30),
                () -> assertThatThrownBy(
                        () -> BuiltInCredentials.run(List.of("sh", "-c", "exec sleep 60"), "", Duration.ofSeconds(1)))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("did not finish in 1 s"));
    }

    @Test
    void theBackendGetsItsInputAndItsOutputAndExitCodeAreKept() throws Exception {
        BuiltInCredentials.Finished finished = BuiltInCredentials.run(List.of("sh", "-c", "cat; echo oops >&2; exit 3"),
                "ALTER ROLE …;\n", Duration.ofSeconds(30));

        assertThat(finished.exitCode()).isEqualTo(3);
        assertThat(finished.output()).isEqualTo("ALTER ROLE …;\noops\n");
    }

    @Test
    void theCheckRecordMatchesOnlyItsPassword() {
        String record = BuiltInCredentials.record("the-password");

        assertThat(record).doesNotContain("the-password");
        assertThat(BuiltInCredentials.matches(record, "the-password")).isTrue();
        assertThat(BuiltInCredentials.matches(record, "another-password")).isFalse();
        assertThat(BuiltInCredentials.matches("garbage", "the-password")).isFalse();
        assertThat(BuiltInCredentials.record("the-password")).as("salted").isNotEqualTo(record);
    }

}
