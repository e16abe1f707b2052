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
 * policy is queue); a send past it is 409 queue-full (1 to 200: each may hold 100,000
 * characters, and the queue's GET answers all of them at once)
 */
@Validated
@ConfigurationProperties("collab.messages")
record MessageProperties(@Min(1) @Max(200) @DefaultValue("50") int maxQueued) {
}
