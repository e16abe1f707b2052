package dev.collab.event;

import java.time.Duration;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Live streams ({@code collab.stream.*}, CONTRACT.md).
 *
 * @param maxReplay        a client further behind than this gets a {@code gap} event and only the last ones
 * @param heartbeat        interval of {@code : ping} comments, well under load balancer idle timeouts
 * @param bufferEvents     events queued for one connection before it counts as too slow and is closed
 *                         (at least one read batch of the hub, 1,000)
 * @param maxConnectionAge a stream is closed after this long (the client resumes with Last-Event-ID)
 */
@Validated
@ConfigurationProperties("collab.stream")
record StreamProperties(
        @Min(1) @Max(100_000) @DefaultValue("200") int maxReplay,
        @NotNull @DefaultValue("15s") Duration heartbeat,
        @Min(1000) @DefaultValue("2000") int bufferEvents,
        @NotNull @DefaultValue("30m") Duration maxConnectionAge) {

    StreamProperties {
        if (heartbeat != null && (heartbeat.isZero() || heartbeat.isNegative())) {
            throw new IllegalArgumentException("collab.stream.heartbeat must be positive, was " + heartbeat);
        }
        if (maxConnectionAge != null && maxConnectionAge.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("collab.stream.max-connection-age must be at least 1s, was " + maxConnectionAge);
        }
    }
}
