package dev.collab.run;

import java.time.Duration;
import java.util.List;

import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The agent runner ({@code collab.runner.*}, docs/runner.md). The defaults are the
 * {@code @DefaultValue}s here and nowhere else; a value that breaks a constraint stops
 * the server at startup with Spring Boot's binding report.
 *
 * @param command the agent command as a list, no shell
 * (--collab.runner.command=opencode,run); empty: the shipped demo agent
 * @param timeout a run longer than this is interrupted (runner-timeout)
 * @param lease a run whose lease is not renewed for this long is lost (at least 1s;
 * renewed every third of it)
 * @param interruptGrace after the polite signal (SIGTERM), how long before the agent's
 * processes are killed
 * @param outputFlush waiting output becomes an output event at most this often…
 * @param outputMaxChars …or as soon as this many characters are waiting (at least 256)
 * @param outputMaxPendingChars output all runs of this instance together keep while it
 * cannot be appended (the database is unavailable); past it a run whose appends fail
 * drops its oldest, with a marker line (at least output-max-chars)
 * @param environment the names of the server's environment variables an agent gets;
 * besides these it gets only the run's own COLLAB_SESSION_ID and COLLAB_RUN_ID. The
 * server's credentials and settings (SPRING_*, COLLAB_*, DATABASE_URL, PGPASSWORD,
 * PGPASSFILE) are refused at startup even when listed.
 * @param protocol how the runner speaks with the agent: text (the message on stdin, raw
 * output), claude-code (Claude Code's stream-json, typed events, approvals, conversations
 * that continue) or opencode; docs/runner.md "Protocols"
 */
@Validated
@ConfigurationProperties("collab.runner")
record RunnerProperties(List<String> command,
        @NotNull @DurationMin(nanos = 0, inclusive = false) @DefaultValue("30m") Duration timeout,
        @NotNull @DurationMin(seconds = 1) @DefaultValue("30s") Duration lease,
        @NotNull @DefaultValue("3s") Duration interruptGrace, @NotNull @DefaultValue("30ms") Duration outputFlush,
        @Min(256) @DefaultValue("16384") int outputMaxChars, @DefaultValue("4194304") int outputMaxPendingChars,
        @DefaultValue( {
                "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM",
                "TMPDIR" }) List<@Pattern(regexp = VARIABLE_NAME, message = NOT_A_NAME) @Pattern(
                        regexp = NOT_THE_SERVERS, message = THE_SERVERS) String> environment,
        @NotNull @Pattern(regexp = PROTOCOLS, message = NOT_A_PROTOCOL) @DefaultValue("text") String protocol){

    /** The protocols a server may be configured with (collab.runner.protocol). */
    static final String PROTOCOLS = "text|claude-code|opencode";

    private static final String NOT_A_PROTOCOL = "is not a protocol: use text, claude-code or opencode";

    private static final String VARIABLE_NAME = "[A-Za-z_][A-Za-z0-9_]*";

    /**
     * Where the server's own secrets and settings live. Spring binds environment
     * variables in any case ({@code spring_datasource_password} too), so the comparison
     * ignores case.
     */
    private static final String NOT_THE_SERVERS = "(?i)(?!SPRING_|COLLAB_|(?:DATABASE_URL|PGPASSWORD|PGPASSFILE)$).*";

    private static final String NOT_A_NAME = "is not an environment variable name: list names only (letters, "
            + "digits and _), separated by commas";

    private static final String THE_SERVERS = "is one of the server's own variables (SPRING_*, COLLAB_*, "
            + "DATABASE_URL, PGPASSWORD, PGPASSFILE), which agents never get: remove it; an agent that needs a "
            + "value of its own gets it under another name";

    RunnerProperties {
        // Normalised, not checked: the constraints above see the list as the runner uses
        // it.
        command = command == null ? List.of() : List.copyOf(command);
        environment = environment == null ? List.of()
                : environment.stream().map(String::strip).filter(name -> !name.isEmpty()).distinct().toList();
    }

    @AssertTrue(message = "collab.runner.output-max-pending-chars must be at least collab.runner.output-max-chars")
    boolean isOutputMaxPendingCharsAtLeastOutputMaxChars() {
        return outputMaxPendingChars >= outputMaxChars;
    }
}
