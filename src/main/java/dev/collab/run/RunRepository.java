package dev.collab.run;

import java.util.Optional;
import java.util.UUID;

import org.springframework.data.jdbc.repository.query.Query;
import org.springframework.data.repository.Repository;

/**
 * Reads of the {@link Run} aggregate (Spring Data JDBC). No {@code save}: a run's writes
 * are the conditional statements of {@link Runs} (insert with a lease, finish once, renew
 * the leases).
 */
interface RunRepository extends Repository<Run, UUID> {

    Optional<Run> findById(UUID id);

    /**
     * The run in progress in a session, the instance running it, and whether its lease
     * expired (by the database's clock).
     */
    @Query("""
            select r.id as run_id, r.instance_id, r.lease_expires_at < now() as lease_expired
              from sessions s join runs r on r.id = s.current_run_id
             where s.id = :sessionId and s.state = 'RUNNING' and r.state = 'RUNNING'
            """)
    Optional<Runs.RunningRun> findRunningIn(UUID sessionId);

}
