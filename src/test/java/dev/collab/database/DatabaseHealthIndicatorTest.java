package dev.collab.database;

import java.time.Duration;

import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The readiness check's own connection has a socket timeout: on a half-open socket (a
 * network partition) the health thread would otherwise wait until TCP gives up, and
 * readiness would show its last result all that time.
 */
@IntegrationTest
class DatabaseHealthIndicatorTest {

    @Autowired
    DatabaseHealthIndicator health;

    @Test
    void theHealthConnectionGivesUpOnASilentSocket() {
        await().atMost(Duration.ofSeconds(60))
            .untilAsserted(() -> assertThat(health.socketTimeoutMillis()).isEqualTo(10_000));
    }

}
