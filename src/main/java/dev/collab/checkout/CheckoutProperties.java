package dev.collab.checkout;

import java.nio.file.Path;
import java.time.Duration;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMin;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * The project's repository in a session's workspace ({@code collab.workspace.git.*},
 * docs/configuration.md and docs/runner.md). The defaults are the {@code @DefaultValue}s
 * here and nowhere else.
 *
 * @param executable the git command (a name looked up on PATH, or an absolute path)
 * @param cloneTimeout a clone taking longer is stopped and the run fails
 * (workspace-failed)
 * @param cloneMaxSize a clone whose workspace grows past this is stopped and the run
 * fails (checked while it runs)
 * @param httpsUsername the user name sent with https-token (GitHub accepts any,
 * x-access-token is customary)
 * @param httpsToken a token for https repositories, sent as an Authorization header to
 * the git process only: never in the workspace, the remote URL or the agent's
 * environment. Unset: no credentials
 * @param sshKeyFile the private key for ssh repositories. Unset: ssh without a key
 * @param sshKnownHostsFile the known_hosts file ssh checks the host against (strict
 * checking, always). Unset: ssh's own default
 * @param diffTimeout the diff endpoint answers 503 diff-timeout when computing it takes
 * longer
 * @param diffMaxFiles at most this many files in a diff (truncated past it)
 * @param diffMaxLines at most this many hunk lines in a diff, all files together
 * (truncated past it)
 * @param diffThreads diffs computed at the same time on this instance (more wait in line)
 */
@Validated
@ConfigurationProperties("collab.workspace.git")
record CheckoutProperties(@NotBlank @DefaultValue("git") String executable,
        @NotNull @DurationMin(seconds = 1) @DefaultValue("10m") Duration cloneTimeout,
        @NotNull @DefaultValue("2GB") DataSize cloneMaxSize,
        @NotBlank @DefaultValue("x-access-token") String httpsUsername, @Nullable String httpsToken,
        @Nullable Path sshKeyFile, @Nullable Path sshKnownHostsFile,
        @NotNull @DurationMin(millis = 1) @DefaultValue("10s") Duration diffTimeout,
        @Min(1) @DefaultValue("1000") int diffMaxFiles, @Min(1) @DefaultValue("20000") int diffMaxLines,
        @Min(1) @Max(64) @DefaultValue("2") int diffThreads) {

    /** The token, unless unset or blank. */
    @Nullable String token() {
        return httpsToken == null || httpsToken.isBlank() ? null : httpsToken;
    }

}
