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
 * {@code GET /actuator/sweeper}: whether sweeps are scheduled, when the next one runs,
 * why the sweeper deletes nothing if it is blocked, what the root's marker says, and the
 * last 20 runs of this instance; {@code POST /actuator/sweeper}: start one now, in the
 * background.
 */
@Component
@Endpoint(id = "sweeper")
class SweeperEndpoint {

    private final WorkspaceSweeper sweeper;

    SweeperEndpoint(WorkspaceSweeper sweeper) {
        this.sweeper = sweeper;
    }

    @ReadOperation
    Status status() {
        return new Status(sweeper.enabled(), sweeper.nextRunAt().orElse(null), sweeper.binding(),
                sweeper.blocked().orElse(null), sweeper.lastRuns());
    }

    @WriteOperation
    WebEndpointResponse<Map<String, Object>> sweepNow() {
        boolean started = sweeper.requestSweep();
        return new WebEndpointResponse<>(Map.of("started", started, "detail",
                started ? "A sweep started in the background." : "A sweep is already running on this instance."), 202);
    }

    record Status(boolean enabled, @Nullable Instant nextRunAt, String binding,
            WorkspaceSweeper.@Nullable Blocked blocked, List<SweepReport> lastRuns) {
    }

}
