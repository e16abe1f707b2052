package dev.collab.workspace;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * The {@code sweeper} health component: the last run and the backlog, for operators. Always
 * UP, and in neither the liveness nor the readiness group: a struggling sweep must never take
 * the service out of rotation (incident 1). Alert on the metrics instead (docs/operations.md).
 */
@Component("sweeperHealthIndicator")
class SweeperHealthIndicator implements HealthIndicator {

    private final WorkspaceSweeper sweeper;

    SweeperHealthIndicator(WorkspaceSweeper sweeper) {
        this.sweeper = sweeper;
    }

    @Override
    public Health health() {
        Health.Builder health = Health.up().withDetail("enabled", sweeper.enabled())
                .withDetail("backlog", sweeper.backlog());
        sweeper.nextRunAt().ifPresent(next -> health.withDetail("nextRunAt", next.toString()));
        var runs = sweeper.lastRuns();
        if (!runs.isEmpty()) {
            health.withDetail("lastRun", runs.getFirst());
        }
        return health.build();
    }
}
