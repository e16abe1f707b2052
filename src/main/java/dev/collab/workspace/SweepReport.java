package dev.collab.workspace;

import java.time.Instant;

/**
 * One sweep, as {@code GET /actuator/sweeper} lists it (CONTRACT.md).
 *
 * @param removed      workspaces deleted completely (orphans and leftovers in quarantine)
 * @param failed       workspaces that could not be deleted completely (left in quarantine for the next run)
 * @param skipped      entries left alone: young directories, live sessions, files, links, other names
 * @param backlog      orphans left for later runs because of {@code max-per-run}
 * @param bytesFreed   growth of the volume's free space during the sweep (approximate: other
 *                     writers count too; files are not stat'ed one by one)
 */
public record SweepReport(Instant startedAt, Instant finishedAt, Trigger trigger, int removed, int failed,
        int skipped, int backlog, long filesDeleted, long bytesFreed) {

    /** What started a sweep. */
    public enum Trigger {
        SCHEDULE, MANUAL;

        @com.fasterxml.jackson.annotation.JsonValue
        public String json() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
