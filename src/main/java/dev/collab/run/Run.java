package dev.collab.run;

import java.time.Instant;
import java.util.UUID;

import org.springframework.data.annotation.Id;
import org.springframework.data.relational.core.mapping.Table;

/**
 * A run: one execution of the agent command for one message, and the aggregate root of
 * its row. Read through {@link RunRepository}; written by {@link Runs} with single
 * conditional statements, because its lease is measured on the database's clock
 * ({@code now()}), which every instance shares, and finishing must happen once whoever
 * (runner or reaper) gets there first.
 *
 * @param state RUNNING until finished, then FINISHED for good
 * @param status how it ended ({@code succeeded}, {@code failed}, {@code interrupted},
 * {@code lost}), or null
 * @param exitCode the agent's exit code, or null
 * @param instanceId the instance that runs it (holds its lease)
 * @param leaseExpiresAt past this, without renewal, any instance ends it as lost
 */
@Table("runs")
record Run(@Id UUID id, UUID sessionId, UUID messageId, State state, String status, Integer exitCode, String instanceId,
        Instant leaseExpiresAt, Instant startedAt, Instant finishedAt) {

    enum State {

        RUNNING, FINISHED

    }
}
