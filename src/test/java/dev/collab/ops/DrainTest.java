package dev.collab.ops;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What happens the moment shutdown begins (Spring Boot then publishes REFUSING_TRAFFIC
 * before anything else stops): readiness turns OUT_OF_SERVICE, liveness stays UP, and
 * writes are refused with 503 shutting-down. The real SIGTERM path is in
 * {@code BuiltInDatabaseProcessIT}.
 */
@IntegrationTest
class DrainTest {

    @Autowired
    ApplicationContext context;

    @Autowired
    Api api;

    @AfterEach
    void acceptTrafficAgain() {
        AvailabilityChangeEvent.publish(context, ReadinessState.ACCEPTING_TRAFFIC);
    }

    @Test
    void shutdownTurnsReadinessOutOfServiceAndRefusesWrites() {
        String project = api.newProject("drain");
        AvailabilityChangeEvent.publish(context, ReadinessState.REFUSING_TRAFFIC);

        Api.Response readiness = api.get("/actuator/health/readiness");
        assertThat(readiness.status()).isEqualTo(503);
        assertThat(readiness.json().get("status").asString()).isEqualTo("OUT_OF_SERVICE");
        assertThat(api.get("/actuator/health/liveness").status()).isEqualTo(200);

        Api.Response write = api.post("/api/projects/" + project + "/sessions", "{}");
        assertThat(write.status()).isEqualTo(503);
        assertThat(write.contentType()).startsWith("application/problem+json");
        assertThat(write.json().get("code").asString()).isEqualTo("shutting-down");
        assertThat(write.header("Retry-After")).contains("1");
        assertThat(api.get("/api/projects/" + project).status()).as("reads still served").isEqualTo(200);

        AvailabilityChangeEvent.publish(context, ReadinessState.ACCEPTING_TRAFFIC);
        assertThat(api.get("/actuator/health/readiness").status()).isEqualTo(200);
        assertThat(api.post("/api/projects/" + project + "/sessions", "{}").status()).isEqualTo(201);
    }

}
