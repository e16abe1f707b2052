package dev.collab.workspace;

import java.time.Duration;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The orphan-workspace sweeper ({@code collab.sweeper.*}, docs/configuration.md).
 *
 * @param enabled        whether sweeps run on a schedule (a manual sweep always works)
 * @param initialDelay   first sweep this long after the server is ready
 * @param interval       delay between the end of one sweep and the start of the next
 * @param maxPerRun      at most this many workspaces removed per sweep; the rest is backlog
 * @param minAge         a directory younger than this is never touched
 * @param deleteWorkers  threads deleting files in parallel (network filesystems need a few)
 * @param maxOrphanFraction a sweep deletes nothing when more than this share of the orphans it
 *                       found belong to no session at all (a wrong or an older, restored database
 *                       does not know the newer workspaces; ENDED sessions are the database saying
 *                       a workspace can go); 0..1, 1 turns the guard off
 * @param unknownOrphansTolerated up to this many orphans of no session never stop a sweep, whatever
 *                       their share: crash leftovers of a small or quiet installation (a directory
 *                       made in the transaction that creates its session, which then failed)
 */
@Validated
// Unknown names stop startup: collab.sweeper.end-idle-after moved to collab.session, and a
// setting that is silently ignored is worse than one that fails.
@ConfigurationProperties(prefix = "collab.sweeper", ignoreUnknownFields = false)
record SweeperProperties(
        @DefaultValue("true") boolean enabled,
        @NotNull @DefaultValue("90s") Duration initialDelay,
        @NotNull @DefaultValue("10m") Duration interval,
        @Min(1) @DefaultValue("10") int maxPerRun,
        @NotNull @DefaultValue("1h") Duration minAge,
        @Min(1) @Max(64) @DefaultValue("4") int deleteWorkers,
        @DefaultValue("0.5") double maxOrphanFraction,
        @Min(0) @DefaultValue("2") int unknownOrphansTolerated) {

    SweeperProperties {
        requireNotNegative(initialDelay, "initial-delay");
        requireNotNegative(minAge, "min-age");
        // A session's directory exists a moment before its row commits; a floor keeps sweeps off it.
        if (minAge != null && minAge.compareTo(MIN_AGE_FLOOR) < 0) {
            throw new IllegalArgumentException("collab.sweeper.min-age must be at least " + MIN_AGE_FLOOR.toSeconds()
                    + "s (a new session's workspace exists just before its database row), was " + minAge);
        }
        if (interval != null && (interval.isZero() || interval.isNegative())) {
            throw new IllegalArgumentException("collab.sweeper.interval must be positive, was " + interval);
        }
        // Checked here rather than with @DecimalMin/@DecimalMax, which let NaN through.
        if (!(maxOrphanFraction >= 0 && maxOrphanFraction <= 1)) {
            throw new IllegalArgumentException(
                    "collab.sweeper.max-orphan-fraction must be between 0 and 1, was " + maxOrphanFraction);
        }
        if (unknownOrphansTolerated < 0) {
            throw new IllegalArgumentException(
                    "collab.sweeper.unknown-orphans-tolerated must not be negative, was " + unknownOrphansTolerated);
        }
    }

    static final Duration MIN_AGE_FLOOR = Duration.ofMinutes(1);

    private static void requireNotNegative(Duration value, String name) {
        if (value != null && value.isNegative()) {
            throw new IllegalArgumentException("collab.sweeper." + name + " must not be negative, was " + value);
        }
    }
}
