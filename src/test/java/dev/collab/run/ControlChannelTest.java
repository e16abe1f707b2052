package dev.collab.run;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.collab.cluster.ClusterNotifications;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A control handler that throws costs neither the LISTEN connection nor the other
 * handlers and commands.
 */
@IntegrationTest
class ControlChannelTest {

    @Autowired
    ControlChannel control;

    @Autowired
    ClusterNotifications listener;

    @Autowired
    PlatformTransactionManager transactions;

    @Test
    void aThrowingHandlerIsIsolated() {
        String tag = "test-isolation:" + UUID.randomUUID();
        List<String> seen = new CopyOnWriteArrayList<>();
        control.onCommand(command -> {
            if (command.startsWith(tag)) {
                throw new IllegalStateException("this handler is broken");
            }
        });
        control.onCommand(command -> {
            if (command.startsWith(tag)) {
                seen.add(command);
            }
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> listener.state() == ClusterNotifications.State.CONNECTED);
        int reconnects = listener.reconnects();

        // Sent in one transaction: delivered together, as one batch of the listener.
        new TransactionTemplate(transactions).executeWithoutResult(status -> {
            control.send(tag + ":1");
            control.send(tag + ":2");
        });

        await().atMost(Duration.ofSeconds(30))
            .untilAsserted(() -> assertThat(seen).containsExactly(tag + ":1", tag + ":2"));
        assertThat(listener.reconnects()).as("the LISTEN connection was kept").isEqualTo(reconnects);
        assertThat(listener.state()).isEqualTo(ClusterNotifications.State.CONNECTED);
    }

}
