package dev.collab.stream;

import java.time.Duration;

import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMax;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * Live streams ({@code collab.stream.*}, docs/configuration.md). The defaults are the
 * {@code @DefaultValue}s here and nowhere else; a value that breaks a constraint stops
 * the server at startup with Spring Boot's binding report.
 *
 * @param maxReplay a client further behind than this many events gets a gap event and
 * only the last this-many; also how many of a watched session's most recent events are
 * kept in memory
 * @param heartbeat interval of ": ping" comments; keep it well under the load balancer's
 * idle timeout
 * @param bufferEvents events queued for one connection before it counts as too slow and
 * is closed (at least one read batch of the hub, 1,000)
 * @param maxConnectionAge a stream is closed after this long, less up to 10 % at random;
 * the client resumes with Last-Event-ID
 * @param recentEventsSize memory for the most recent events of one watched session (their
 * encoded size); a replay reaching further back reads the log
 * @param recentEventsTotalSize memory for the recent events of all watched sessions
 * together (estimated heap: each event's encoded form and its JSON); over it, the memory
 * of the least recently used sessions goes first (their streams replay from the log)
 * @param concurrentReads event-log reads of streams at the same time (replays, catch-ups,
 * the hub's shared reads); the rest wait their turn. Never more than half of the
 * connection pool (a larger value is lowered), so that streams opening together never
 * take every connection
 * @param readQueueTimeout a stream's read that waits longer than this for its turn gives
 * up, and the client is told to come back later (docs/api.md)
 * @param accessCheckInterval how often this instance checks, in one query for all its
 * open streams, that their users still have access (token not revoked or expired, browser
 * session not logged out, user not disabled, still a member of the project); a stream
 * that lost it is closed. At most 50s, so that a stream ends within 60 s of its user
 * losing access, the check's own time included
 */
@Validated
@ConfigurationProperties("collab.stream")
record StreamProperties(@Min(1) @Max(100_000) @DefaultValue("200") int maxReplay,
        @NotNull @DurationMin(nanos = 0, inclusive = false) @DefaultValue("15s") Duration heartbeat,
        @Min(1000) @DefaultValue("2000") int bufferEvents,
        @NotNull @DurationMin(seconds = 1) @DefaultValue("30m") Duration maxConnectionAge,
        @NotNull @DefaultValue("1MB") DataSize recentEventsSize,
        @NotNull @DefaultValue("256MB") DataSize recentEventsTotalSize,
        @Min(1) @Max(1000) @DefaultValue("8") int concurrentReads,
        @NotNull @DurationMin(nanos = 0, inclusive = false) @DefaultValue("30s") Duration readQueueTimeout,
        @NotNull @DurationMin(seconds = 1) @DurationMax(
                seconds = 50) @DefaultValue("15s") Duration accessCheckInterval) {

    // No Jakarta or Spring Boot constraint applies to a DataSize, hence these two rules
    // as methods.

    @AssertTrue(message = "collab.stream.recent-events-size must not be negative")
    boolean isRecentEventsSizeNotNegative() {
        return recentEventsSize == null || !recentEventsSize.isNegative();
    }

    @AssertTrue(message = "collab.stream.recent-events-total-size must not be negative")
    boolean isRecentEventsTotalSizeNotNegative() {
        return recentEventsTotalSize == null || !recentEventsTotalSize.isNegative();
    }
}
