package dev.collab.message;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Sends' settings ({@code collab.messages.*}, docs/configuration.md).
 *
 * @param maxQueued how many messages may wait in one session's queue (projects whose busy
 * policy is queue); a send past it is 409 queue-full (1 to 10,000)
 */
@Validated
@ConfigurationProperties("collab.messages")
record MessageProperties(@Min(1) @Max(10_000) @DefaultValue("50") int maxQueued) {
}
