package dev.collab.run;

import java.time.Duration;
import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The run aggregate as stored: a send records its run (owner instance, lease) and the
 * runner finishes it once, with its outcome; read back through the repository.
 */
@IntegrationTest
class RunRecordTest {

    @Autowired
    Api api;

    @Autowired
    Runs runs;

    @Autowired
    InstanceId instanceId;

    @Test
    void aSendRecordsItsRunAndTheRunnerFinishesIt() {
        UUID session = api.newSession(api.newProject("run-record"));
        Api.Response sent = api.sendMessage(session, "lines 3", null);
        assertThat(sent.status()).isEqualTo(202);
        UUID runId = UUID.fromString(sent.json().get("runId").asString());
        UUID messageId = UUID.fromString(sent.json().get("messageId").asString());

        Run started = runs.find(runId).orElseThrow();
        assertThat(started.sessionId()).isEqualTo(session);
        assertThat(started.messageId()).isEqualTo(messageId);
        assertThat(started.instanceId()).isEqualTo(instanceId.value());
        assertThat(started.leaseExpiresAt()).isAfter(started.startedAt());

        await().atMost(Duration.ofSeconds(30))
            .until(() -> runs.find(runId).orElseThrow().state() == Run.State.FINISHED);
        Run finished = runs.find(runId).orElseThrow();
        assertThat(finished.status()).isEqualTo("succeeded");
        assertThat(finished.exitCode()).isZero();
        assertThat(finished.finishedAt()).isAfterOrEqualTo(finished.startedAt());
        assertThat(runs.running(session)).as("nothing runs in the session any more").isEmpty();
        assertThat(runs.find(UUID.randomUUID())).isEmpty();
    }

}
