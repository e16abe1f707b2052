package dev.collab.approval;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A project's {@code approvers} setting through {@code PUT /api/projects/{key}}: members
 * by default, changed only when given, checked, and audited.
 */
@IntegrationTest
class ProjectApproversTest {

    @Autowired
    Api api;

    @Autowired
    JdbcClient jdbc;

    @Test
    void approversAreMembersUnlessTheProjectSaysAdmins() {
        Api checking = api.checkingRequests();
        String key = api.newProject("approvers");
        assertThat(checking.get("/api/projects/" + key).json().get("approvers").asString()).isEqualTo("members");

        Api.Response admins = checking.put("/api/projects/" + key, "{\"name\":\"approvers\",\"approvers\":\"admins\"}");
        assertThat(admins.status()).as(admins.toString()).isEqualTo(200);
        assertThat(admins.json().get("approvers").asString()).isEqualTo("admins");
        // Absent on an update: unchanged, and nothing changes.
        Api.Response same = checking.put("/api/projects/" + key, "{\"name\":\"approvers\"}");
        assertThat(same.status()).isEqualTo(200);
        assertThat(same.json().get("approvers").asString()).isEqualTo("admins");
        Api.Response renamed = checking.put("/api/projects/" + key, "{\"name\":\"renamed\",\"approvers\":null}");
        assertThat(renamed.json().get("approvers").asString()).isEqualTo("admins");
        assertThat(jdbc.sql("""
                select details->'changed' from audit_log where action = 'project.updated' and target = :target
                order by id
                """).param("target", "project:" + key).query(String.class).list()).containsExactly("[\"approvers\"]",
                "[\"name\"]");

        // On a create: as given, else members.
        String other = "approvers-" + Long.toString(System.nanoTime(), 36);
        Api.Response created = checking.put("/api/projects/" + other,
                "{\"name\":\"approvers\",\"approvers\":\"admins\"}");
        assertThat(created.status()).isEqualTo(201);
        assertThat(created.json().get("approvers").asString()).isEqualTo("admins");
        boolean listed = false;
        for (JsonNode project : checking.get("/api/projects").json().get("items")) {
            if (project.get("key").asString().equals(other)) {
                listed = project.get("approvers").asString().equals("admins");
            }
        }
        assertThat(listed).isTrue();

        Api.Response bad = api.put("/api/projects/" + key, "{\"name\":\"approvers\",\"approvers\":\"everyone\"}");
        assertThat(bad.status()).as(bad.toString()).isEqualTo(400);
        assertThat(bad.json().get("code").asString()).isEqualTo("validation-failed");
        assertThat(bad.json().get("errors").get(0).get("field").asString()).isEqualTo("approvers");
        assertThat(checking.get("/api/projects/" + key).json().get("approvers").asString()).isEqualTo("admins");
    }

}
