package dev.collab.workspace;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * One sweep, as {@code GET /actuator/sweeper} lists it (docs/api.md).
 *
 * @param removed workspaces deleted completely (orphans and leftovers in quarantine)
 * @param failed workspaces that could not be deleted completely (left in quarantine for
 * the next run), and orphans that could not be moved (each tried again after a backoff)
 * @param skipped entries left alone: young directories, live sessions, files, links,
 * other names, orphans waiting out the backoff after a failed move
 * @param backlog orphans left for later runs because of {@code max-per-run} (all of them
 * when the orphan-fraction guard stopped the sweep)
 * @param bytesFreed growth of the volume's free space during the sweep (approximate:
 * other writers count too; files are not stat'ed one by one)
 * @param workspaces directories under the root named like a session, of any age (0 when
 * the sweep stopped before listing the root)
 * @param orphans how many of them looked orphaned (older than min-age, ENDED or no
 * session)
 * @param unknown how many of those orphans belong to no session at all: what the orphan
 * guard weighs
 * @param stopped why this sweep deleted nothing: {@code database-mismatch},
 * {@code marker-unreadable}, {@code orphan-fraction}; null for a sweep that ran
 */
public record SweepReport(Instant startedAt, Instant finishedAt, Trigger trigger, int removed, int failed, int skipped,
        int backlog, long filesDeleted, long bytesFreed, int workspaces, int orphans, int unknown,
        @io.swagger.v3.oas.annotations.media.Schema(types = {
                "string", "null" }) @Nullable String stopped){

    /** What started a sweep. */
    public enum Trigger {

        SCHEDULE, MANUAL;

        @com.fasterxml.jackson.annotation.JsonValue
        public String json() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

    }
}
