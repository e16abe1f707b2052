package dev.collab.access;

import java.util.UUID;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.node.ObjectNode;

import static dev.collab.access.AccessTest.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * With {@code collab.auth.users-create-projects=false}, a user who is no server admin
 * cannot create a project, and their {@code PUT} of a project they are not a member of
 * answers exactly as for a key that does not exist ({@code 403 forbidden}): the PUT does
 * not tell them the project exists.
 */
@IntegrationTest
@TestPropertySource(properties = "collab.auth.users-create-projects=false")
class ProjectCreationRestrictedTest {

    @Autowired
    Api api;

    @Autowired
    JdbcClient jdbc;

    @Test
    void aUserWhoCannotCreateProjectsCannotTellAnExistingProjectFromAMissingOne() {
        String project = api.newProject("closed");
        String login = "closed-" + Long.toString(System.nanoTime(), 36);
        UUID id = api.createUser(login, ProjectRolesTest.PASSWORD, false);
        Api user = api.as(login, ProjectRolesTest.PASSWORD);
        String missing = (project.charAt(0) == 'z' ? "y" : "z") + project.substring(1);

        Api.Response existing = user.put("/api/projects/" + project, "{\"name\":\"mine\"}");
        Api.Response absent = user.put("/api/projects/" + missing, "{\"name\":\"mine\"}");
        assertProblem(existing, 403, "forbidden");
        assertProblem(absent, 403, "forbidden");
        ObjectNode one = (ObjectNode) existing.json();
        ObjectNode other = (ObjectNode) absent.json();
        one.remove("requestId");
        other.remove("requestId");
        one.remove("instance");
        other.remove("instance");
        assertThat(one).isEqualTo(other);
        assertThat(api.get("/api/projects/" + missing).status()).as("not created").isEqualTo(404);
        assertThat(api.get("/api/projects/" + project).json().get("name").asString()).isEqualTo("closed");

        // A project admin still changes their project.
        // Through the API: the user's "not a member" is cached (AuthCache) and the change
        // evicts it (a row inserted in SQL would be seen within collab.auth.cache-ttl).
        assertThat(api.put("/api/projects/" + project + "/members/" + login, "{\"role\":\"admin\"}").status())
            .isEqualTo(201);
        assertThat(user.put("/api/projects/" + project, "{\"name\":\"mine\"}").status()).isEqualTo(200);
    }

}
