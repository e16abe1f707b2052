package dev.collab.checkout;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import dev.collab.support.TempDirectories;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The git runner's failures, and the credentials it hands to the clone only. */
class GitTest {

    static CheckoutProperties properties(String executable, String token) {
        return new CheckoutProperties(executable, Duration.ofMinutes(10), DataSize.ofGigabytes(2), "robot", token,
                Path.of("/etc/collab/id_ed25519"), Path.of("/etc/collab/known hosts"), Duration.ofSeconds(10), 1000,
                20000, 2);
    }

    @Test
    void gitMissingOnThePathIsSaidAsSuch() {
        Git git = new Git(properties("/nonexistent/git", null), Clock.systemUTC());
        Path dir = TempDirectories.create("git-missing-");
        assertThatThrownBy(() -> git.output(dir, List.of("--version"), Map.of(),
                new Git.Watch(Clock.systemUTC().instant().plusSeconds(10), () -> false, null), 100))
            .isInstanceOfSatisfying(Git.GitException.class,
                    e -> assertThat(e.failure()).isEqualTo(Git.Failure.MISSING));
    }

    @Test
    void aDeadlineKillsIt() {
        Git git = new Git(properties("sleep", null), Clock.systemUTC());
        Path dir = TempDirectories.create("git-slow-");
        long started = System.nanoTime();
        assertThatThrownBy(() -> git.output(dir, List.of("30"), Map.of(),
                new Git.Watch(Clock.systemUTC().instant().plusMillis(300), () -> false, null), 100))
            .isInstanceOfSatisfying(Git.GitException.class,
                    e -> assertThat(e.failure()).isEqualTo(Git.Failure.TIMEOUT));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void credentialsGoToTheCloneOnlyAndAreRedactedFromWhatGitSays() {
        Checkouts checkouts = new Checkouts(null, null, null, null, null, null, properties("git", "tok-123"),
                Clock.systemUTC());
        Map<String, String> https = checkouts.credentials("https://git.example/a.git");
        assertThat(https).containsEntry("GIT_CONFIG_COUNT", "1").containsEntry("GIT_CONFIG_KEY_0", "http.extraHeader");
        assertThat(https.get("GIT_CONFIG_VALUE_0")).startsWith("Authorization: Basic ")
            .doesNotContain("tok-123")
            .endsWith(java.util.Base64.getEncoder()
                .encodeToString("robot:tok-123".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertThat(checkouts.credentials("git@git.example:a.git").get("GIT_SSH_COMMAND")).contains(
                "-o IdentitiesOnly=yes", "-o StrictHostKeyChecking=yes", "-i '/etc/collab/id_ed25519'",
                "UserKnownHostsFile='/etc/collab/known hosts'");
        assertThat(checkouts.credentials("file:///srv/a.git")).isEmpty();
        assertThat(checkouts.redact("fatal: https://robot:tok-123@git.example/a.git tok-123"))
            .isEqualTo("fatal: https://***@git.example/a.git ***");
    }

}
