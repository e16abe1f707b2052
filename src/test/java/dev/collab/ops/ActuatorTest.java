package dev.collab.ops;

import java.util.ArrayList;
import java.util.List;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

@IntegrationTest
class ActuatorTest {

    @Autowired
    Api api;

    @Test
    void livenessDependsOnNothingButTheProcess() {
        Api.Response liveness = api.get("/actuator/health/liveness");
        assertThat(liveness.status()).isEqualTo(200);
        assertThat(liveness.json().get("status").asString()).isEqualTo("UP");
        assertThat(names(liveness.json().get("components"))).containsExactly("livenessState");
    }

    @Test
    void readinessChecksTheMigratedDatabase() {
        Api.Response readiness = api.get("/actuator/health/readiness");
        assertThat(readiness.status()).isEqualTo(200);
        JsonNode components = readiness.json().get("components");
        assertThat(names(components)).containsExactlyInAnyOrder("readinessState", "db");
        assertThat(components.get("db").get("status").asString()).isEqualTo("UP");
        assertThat(components.get("db").get("details").get("schemaVersion").asString()).isNotBlank();
    }

    @Test
    void compositeHealthHasDetails() {
        JsonNode health = api.get("/actuator/health").json();
        assertThat(health.get("status").asString()).isEqualTo("UP");
        assertThat(names(health.get("components"))).contains("db", "workspace", "livenessState", "readinessState");
        assertThat(health.get("components").get("workspace").get("details").get("free").asLong()).isPositive();
        assertThat(api.get("/actuator/health").text()).doesNotContain("/tmp", "collab-test");
    }

    @Test
    void infoHasVersionCommitPidStartTimeAndJava() {
        JsonNode info = api.get("/actuator/info").json();
        assertThat(info.get("build").get("version").asString()).isNotBlank();
        assertThat(info.get("git").get("commit").get("id").asString()).isNotBlank();
        assertThat(info.get("process").get("pid").asLong()).isEqualTo(ProcessHandle.current().pid());
        assertThat(info.get("process").get("startTime").asString()).isNotBlank();
        assertThat(info.get("java").get("version").asString()).isNotBlank();
    }

    @Test
    void prometheusScrapes() {
        Api.Response prometheus = api.get("/actuator/prometheus");
        assertThat(prometheus.status()).isEqualTo(200);
        assertThat(prometheus.text()).contains("jvm_memory_used_bytes", "http_server_requests", "hikaricp_connections");
    }

    @Test
    void onlyTheContractEndpointsAreExposed() {
        JsonNode links = api.get("/actuator").json().get("_links");
        List<String> exposed = names(links).stream().map(name -> name.replaceAll("-.*", "")).distinct().toList();
        assertThat(exposed).allMatch(name -> List.of("self", "health", "info", "prometheus", "sweeper").contains(name));
        for (String hidden : List.of("env", "beans", "configprops", "heapdump", "threaddump", "loggers", "mappings",
                "shutdown")) {
            assertThat(api.get("/actuator/" + hidden).status()).as(hidden).isEqualTo(404);
        }
    }

    private static List<String> names(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.propertyNames().forEach(names::add);
        return names;
    }

}
