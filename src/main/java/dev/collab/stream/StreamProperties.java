package dev.collab.stream;

import java.time.Duration;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * Live streams ({@code collab.stream.*}, docs/configuration.md).
 *
 * @param maxReplay        a client further behind than this gets a {@code gap} event and only the last ones;
 *                         also how many of a watched session's most recent events the hub keeps in memory
 * @param heartbeat        interval of {@code : ping} comments, well under load balancer idle timeouts
 * @param bufferEvents     events queued for one connection before it counts as too slow and is closed
 *                         (at least one read batch of the hub, 1,000)
 * @param maxConnectionAge a stream is closed after this long (the client resumes with Last-Event-ID)
 * @param recentEventsSize memory for the most recent events of one watched session (their encoded size);
 *                         a replay reaching further back reads the log
 * @param recentEventsTotalSize memory for the recent events of all watched sessions together (estimated heap:
 *                         each event's encoded form and its JSON); over it, the memory of the least recently
 *                         used sessions goes first (their streams replay from the log)
 * @param concurrentReads  log reads of streams at once (replays, catch-ups, the hub's shared reads); the rest
 *                         wait their turn. Kept below the connection pool's size (at most half of it), so
 *                         that streams opening together never take every connection
 * @param readQueueTimeout how long a stream's read waits for its turn before the client gets
 *                         {@code 503 database-busy}
 */
@Validated
@ConfigurationProperties("collab.stream")
record StreamProperties(
        @Min(1) @Max(100_000) @DefaultValue("200") int maxReplay,
        @NotNull @DefaultValue("15s") Duration heartbeat,
        @Min(1000) @DefaultValue("2000") int bufferEvents,
        @NotNull @DefaultValue("30m") Duration maxConnectionAge,
        @NotNull @DefaultValue("1MB") DataSize recentEventsSize,
        @NotNull @DefaultValue("256MB") DataSize recentEventsTotalSize,
        @Min(1) @Max(1000) @DefaultValue("8") int concurrentReads,
        @NotNull @DefaultValue("30s") Duration readQueueTimeout) {

    StreamProperties {
        if (heartbeat != null && (heartbeat.isZero() || heartbeat.isNegative())) {
            throw new IllegalArgumentException("collab.stream.heartbeat must be positive, was " + heartbeat);
        }
        if (maxConnectionAge != null && maxConnectionAge.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("collab.stream.max-connection-age must be at least 1s, was " + maxConnectionAge);
        }
        if (recentEventsSize != null && recentEventsSize.isNegative()) {
            throw new IllegalArgumentException("collab.stream.recent-events-size must not be negative, was " + recentEventsSize);
        }
        if (recentEventsTotalSize != null && recentEventsTotalSize.isNegative()) {
            throw new IllegalArgumentException("collab.stream.recent-events-total-size must not be negative, was "
                    + recentEventsTotalSize);
        }
        if (readQueueTimeout != null && (readQueueTimeout.isZero() || readQueueTimeout.isNegative())) {
            throw new IllegalArgumentException("collab.stream.read-queue-timeout must be positive, was " + readQueueTimeout);
        }
    }
}
