package dev.collab.run;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

import dev.collab.ops.StartupCheckException;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The agent runner ({@code collab.runner.*}, docs/configuration.md, docs/runner.md).
 *
 * @param command        the agent command as a list, no shell; empty: the shipped demo agent
 * @param timeout        a run longer than this is interrupted ({@code runner-timeout})
 * @param lease          a run whose lease is not renewed for this long is {@code lost}
 * @param interruptGrace after the polite signal, how long before the agent's processes are killed
 * @param outputFlush    output is batched into {@code output} events at most this often…
 * @param outputMaxChars …or as soon as this many characters are waiting
 * @param outputMaxPendingChars output all runs of this instance together keep while it cannot be
 *                       appended (the database is unavailable); past it a run whose appends fail
 *                       drops its oldest, with a marker line (docs/runner.md)
 * @param environment    the names of the server's environment variables an agent gets (when set);
 *                       besides these it gets only the run's own {@code COLLAB_SESSION_ID} and
 *                       {@code COLLAB_RUN_ID}. The server's credentials and settings
 *                       ({@code SPRING_*}, {@code COLLAB_*}, {@code DATABASE_URL}, {@code PGPASSWORD},
 *                       {@code PGPASSFILE}) are refused at startup even when listed.
 */
@Validated
@ConfigurationProperties("collab.runner")
record RunnerProperties(
        List<String> command,
        @NotNull @DefaultValue("30m") Duration timeout,
        @NotNull @DefaultValue("30s") Duration lease,
        @NotNull @DefaultValue("3s") Duration interruptGrace,
        @NotNull @DefaultValue("30ms") Duration outputFlush,
        @DefaultValue("16384") int outputMaxChars,
        @DefaultValue("4194304") int outputMaxPendingChars,
        @DefaultValue({"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM", "TMPDIR"})
        List<String> environment) {

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    /** Where the server's own secrets and settings live; Spring also binds them in lower case. */
    private static final List<String> SERVER_PREFIXES = List.of("SPRING_", "COLLAB_");
    private static final List<String> SERVER_NAMES = List.of("DATABASE_URL", "PGPASSWORD", "PGPASSFILE");

    RunnerProperties {
        command = command == null ? List.of() : List.copyOf(command);
        if (lease != null && lease.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("collab.runner.lease must be at least 1s, was " + lease);
        }
        if (timeout != null && (timeout.isZero() || timeout.isNegative())) {
            throw new IllegalArgumentException("collab.runner.timeout must be positive, was " + timeout);
        }
        environment = environment == null ? List.of() : environment.stream().map(String::strip)
                .filter(name -> !name.isEmpty()).distinct().toList();
        for (String name : environment) {
            requireAgentVariable(name);
        }
        if (outputMaxChars < 256) {
            throw new IllegalArgumentException("collab.runner.output-max-chars must be at least 256, was " + outputMaxChars);
        }
        if (outputMaxPendingChars < outputMaxChars) {
            throw new IllegalArgumentException("collab.runner.output-max-pending-chars must be at least "
                    + "collab.runner.output-max-chars (" + outputMaxChars + "), was " + outputMaxPendingChars);
        }
    }

    /** A name an operator may pass through to agents: a plain variable name, none of the server's own. */
    private static void requireAgentVariable(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new StartupCheckException("collab.runner.environment lists '" + name
                    + "', which is not an environment variable name.",
                    "List variable names only (letters, digits and _), separated by commas.");
        }
        String upper = name.toUpperCase(Locale.ROOT);
        if (SERVER_PREFIXES.stream().anyMatch(upper::startsWith) || SERVER_NAMES.contains(upper)) {
            throw new StartupCheckException("collab.runner.environment lists " + name
                    + ", but agents never get the server's credentials or settings (SPRING_*, COLLAB_*, "
                    + "DATABASE_URL, PGPASSWORD, PGPASSFILE).",
                    "Remove " + name + " from collab.runner.environment (COLLAB_RUNNER_ENVIRONMENT); "
                            + "an agent that needs a value of its own gets it under another name.");
        }
    }
}
