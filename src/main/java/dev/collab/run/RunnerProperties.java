package dev.collab.run;

import java.time.Duration;
import java.util.List;

import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The agent runner ({@code collab.runner.*}, CONTRACT.md).
 *
 * @param command        the agent command as a list, no shell; empty: the shipped demo agent
 * @param timeout        a run longer than this is interrupted ({@code runner-timeout})
 * @param lease          a run whose lease is not renewed for this long is {@code lost}
 * @param interruptGrace after the polite signal, how long before the agent's processes are killed
 * @param outputFlush    output is batched into {@code output} events at most this often…
 * @param outputMaxChars …or as soon as this many characters are waiting
 */
@Validated
@ConfigurationProperties("collab.runner")
record RunnerProperties(
        List<String> command,
        @NotNull @DefaultValue("30m") Duration timeout,
        @NotNull @DefaultValue("30s") Duration lease,
        @NotNull @DefaultValue("3s") Duration interruptGrace,
        @NotNull @DefaultValue("30ms") Duration outputFlush,
        @DefaultValue("16384") int outputMaxChars) {

    RunnerProperties {
        command = command == null ? List.of() : List.copyOf(command);
        if (lease != null && lease.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("collab.runner.lease must be at least 1s, was " + lease);
        }
        if (timeout != null && (timeout.isZero() || timeout.isNegative())) {
            throw new IllegalArgumentException("collab.runner.timeout must be positive, was " + timeout);
        }
        if (outputMaxChars < 256) {
            throw new IllegalArgumentException("collab.runner.output-max-chars must be at least 256, was " + outputMaxChars);
        }
    }
}
