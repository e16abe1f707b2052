package dev.collab.workspace;

import java.time.Duration;

import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The orphan-workspace sweeper ({@code collab.sweeper.*}, docs/configuration.md). The
 * defaults are the {@code @DefaultValue}s here and nowhere else; a value that breaks a
 * constraint stops the server at startup with Spring Boot's binding report.
 *
 * @param enabled whether sweeps run on a schedule on this instance (a manual sweep and
 * the removal after a session's deletion work either way)
 * @param initialDelay the first sweep runs this long after the server is ready
 * @param interval delay between the end of one sweep and the start of the next
 * @param maxPerRun at most this many orphan workspaces removed per sweep (the rest is
 * backlog); separately, at most this many quarantine leftovers retried
 * @param minAge a directory modified within this time is never touched (at least a
 * minute: a new session's workspace exists a moment before its database row commits)
 * @param deleteWorkers threads deleting files in parallel (network filesystems such as
 * EFS need a few)
 * @param maxOrphanFraction a sweep deletes nothing when more than this share of the
 * orphans it found (and more than unknown-orphans-tolerated of them) belong to no session
 * at all: a wrong database, or an older one restored in place, does not know the newer
 * workspaces. Orphans of ENDED sessions never count against it; 1 turns the guard off
 * @param unknownOrphansTolerated up to this many orphans of no session never stop a
 * sweep, whatever their share: crash leftovers of a small or quiet installation (a
 * directory made in the transaction that creates its session, which then failed)
 */
@Validated
// Unknown names stop startup: collab.sweeper.end-idle-after moved to collab.session, and
// a
// setting that is silently ignored is worse than one that fails.
@ConfigurationProperties(prefix = "collab.sweeper", ignoreUnknownFields = false)
record SweeperProperties(@DefaultValue("true") boolean enabled,
        @NotNull @DurationMin(seconds = 0) @DefaultValue("90s") Duration initialDelay,
        @NotNull @DurationMin(nanos = 0, inclusive = false) @DefaultValue("10m") Duration interval,
        @Min(1) @DefaultValue("10") int maxPerRun,
        @NotNull @DurationMin(minutes = 1) @DefaultValue("1h") Duration minAge,
        @Min(1) @Max(64) @DefaultValue("4") int deleteWorkers,
        // Hibernate Validator's @DecimalMin/@DecimalMax refuse NaN too.
        @DecimalMin("0") @DecimalMax("1") @DefaultValue("0.5") double maxOrphanFraction,
        @Min(0) @DefaultValue("2") int unknownOrphansTolerated) {
}
