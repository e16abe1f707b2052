package dev.collab.workspace;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.stereotype.Component;

/**
 * {@code GET /actuator/sweeper}: this instance's sweeper (whether sweeps are scheduled,
 * when the next one runs, why it deletes nothing if it is blocked, what the root's marker
 * says, its last 20 runs) and the cluster's sweeps from the database; {@code POST
 * /actuator/sweeper}: start one now, in the background.
 *
 * <p>
 * The cluster part is {@link SweepHistory}'s last background read, never a query on the
 * request: while the database cannot be read the answer is as fast as ever, says
 * {@code "source": "instance"} and has no cluster part.
 */
@Component
@Endpoint(id = "sweeper")
class SweeperEndpoint {

    private final WorkspaceSweeper sweeper;

    private final SweepHistory history;

    SweeperEndpoint(WorkspaceSweeper sweeper, SweepHistory history) {
        this.sweeper = sweeper;
        this.history = history;
    }

    @ReadOperation
    Status status() {
        var last = history.last().filter(read -> history.fresh());
        ClusterView cluster = last
            .map(read -> new ClusterView(read.readAt(), read.value().backlog(), read.value().lastRunAt(),
                    read.value().lastRuns(), read.value().instances()))
            .orElse(null);
        return new Status(history.instance(), sweeper.enabled(), sweeper.nextRunAt().orElse(null), sweeper.binding(),
                sweeper.blocked().orElse(null), sweeper.lastRuns(), cluster != null ? "cluster" : "instance", cluster);
    }

    @WriteOperation
    WebEndpointResponse<Map<String, Object>> sweepNow() {
        boolean started = sweeper.requestSweep();
        return new WebEndpointResponse<>(Map.of("started", started, "detail",
                started ? "A sweep started in the background." : "A sweep is already running on this instance."), 202);
    }

    /**
     * @param instance this instance ({@code pid@host}), whose sweeper the fields up to
     * {@code lastRuns} describe
     * @param source {@code cluster}, or {@code instance} while the cluster's sweeps
     * cannot be read (then {@code cluster} is null)
     */
    record Status(String instance, boolean enabled, @Nullable Instant nextRunAt, String binding,
            WorkspaceSweeper.@Nullable Blocked blocked, List<SweepReport> lastRuns, String source,
            @Nullable ClusterView cluster) {
    }

    /**
     * The cluster's sweeps, as read at {@code checkedAt}.
     *
     * @param backlog what {@code collab_sweeper_backlog} says
     * @param lastRunAt what {@code collab_sweeper_last_run_timestamp_seconds} says (null:
     * no sweep yet)
     */
    record ClusterView(Instant checkedAt, int backlog, @Nullable Instant lastRunAt, List<SweepHistory.Sweep> lastRuns,
            List<SweepHistory.Sweep> instances) {
    }

}
