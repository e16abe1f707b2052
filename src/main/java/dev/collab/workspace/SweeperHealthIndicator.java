package dev.collab.workspace;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * The {@code sweeper} health component: the last run, the backlog and the root's binding,
 * for operators. DOWN only while the sweeper is blocked (bound to another database, or
 * too many orphans of no session; an unbound root is not blocked): that needs a person,
 * and it shows in the composite {@code /actuator/health}. It is in neither the liveness
 * nor the readiness group: the sweeper must never take the service out of rotation or get
 * it killed (incident 1). Alert on the metrics (docs/operations.md).
 */
@Component("sweeperHealthIndicator")
class SweeperHealthIndicator implements HealthIndicator {

    private final WorkspaceSweeper sweeper;

    SweeperHealthIndicator(WorkspaceSweeper sweeper) {
        this.sweeper = sweeper;
    }

    @Override
    public Health health() {
        var blocked = sweeper.blocked();
        Health.Builder health = (blocked.isPresent() ? Health.down() : Health.up())
            .withDetail("enabled", sweeper.enabled())
            .withDetail("backlog", sweeper.backlog())
            .withDetail("binding", sweeper.binding());
        blocked.ifPresent(reason -> health.withDetail("blocked", reason));
        sweeper.nextRunAt().ifPresent(next -> health.withDetail("nextRunAt", next.toString()));
        var runs = sweeper.lastRuns();
        if (!runs.isEmpty()) {
            health.withDetail("lastRun", runs.getFirst());
        }
        return health.build();
    }

}
