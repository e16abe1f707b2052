package dev.collab.project;

import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

@IntegrationTest
class ProjectApiTest {

    @Autowired
    Api api;

    @Autowired
    JdbcClient jdbc;

    private static String key(String prefix) {
        return prefix + "-" + Long.toString(System.nanoTime(), 36);
    }

    @Test
    void putCreatesThenReturnsSameOrUpdated() {
        String key = key("acme");
        Api.Response created = api.put("/api/projects/" + key,
                "{\"name\":\"Acme Web\",\"repoUrl\":\"https://git.example/acme.git\"}");
        assertThat(created.status()).isEqualTo(201);
        assertThat(created.header("Location")).contains("/api/projects/" + key);
        JsonNode project = created.json();
        assertThat(project.get("key").asString()).isEqualTo(key);
        assertThat(project.get("name").asString()).isEqualTo("Acme Web");
        assertThat(project.get("repoUrl").asString()).isEqualTo("https://git.example/acme.git");
        assertThat(project.get("createdAt").asString()).endsWith("Z");

        Api.Response same = api.put("/api/projects/" + key,
                "{\"name\":\"Acme Web\",\"repoUrl\":\"https://git.example/acme.git\"}");
        assertThat(same.status()).isEqualTo(200);
        assertThat(same.json()).isEqualTo(project);

        Api.Response updated = api.put("/api/projects/" + key, "{\"name\":\"Acme\",\"repoUrl\":null}");
        assertThat(updated.status()).isEqualTo(200);
        assertThat(updated.json().get("name").asString()).isEqualTo("Acme");
        assertThat(updated.json().get("repoUrl").isNull()).isTrue();
        assertThat(updated.json().get("createdAt")).isEqualTo(project.get("createdAt"));

        assertThat(api.get("/api/projects/" + key).json()).isEqualTo(updated.json());
    }

    @Test
    void createOnlyPutConflictsWithOtherSettings() {
        String key = key("only");
        HttpRequest.Builder createOnly = HttpRequest.newBuilder(api.uri("/api/projects/" + key))
            .header("Content-Type", "application/json")
            .header("If-None-Match", "*")
            .PUT(HttpRequest.BodyPublishers.ofString("{\"name\":\"One\"}"));
        assertThat(api.send(createOnly).status()).isEqualTo(201);
        assertThat(api.send(createOnly).status()).as("same settings again").isEqualTo(200);

        Api.Response conflict = api.send(HttpRequest.newBuilder(api.uri("/api/projects/" + key))
            .header("Content-Type", "application/json")
            .header("If-None-Match", "*")
            .PUT(HttpRequest.BodyPublishers.ofString("{\"name\":\"Two\"}")));
        assertThat(conflict.status()).isEqualTo(409);
        assertThat(conflict.json().get("code").asString()).isEqualTo("project-exists");
        assertThat(api.get("/api/projects/" + key).json().get("name").asString()).isEqualTo("One");
    }

    @Test
    void listIsOrderedByKey() {
        String prefix = key("list");
        for (String suffix : List.of("b", "c", "a")) {
            assertThat(api.put("/api/projects/" + prefix + "-" + suffix, "{\"name\":\"" + suffix + "\"}").status())
                .isEqualTo(201);
        }
        JsonNode items = api.get("/api/projects").json().get("items");
        List<String> keys = new ArrayList<>();
        items.forEach(item -> keys.add(item.get("key").asString()));
        assertThat(keys).isSorted();
        assertThat(keys).containsSubsequence(prefix + "-a", prefix + "-b", prefix + "-c");
        assertThat(items.get(0).propertyNames()).containsExactlyInAnyOrder("key", "name", "repoUrl", "approvers",
                "busyPolicy", "createdAt");
    }

    /**
     * A server admin's list is one ordered query of every project, never a list of keys
     * as bind parameters: past PostgreSQL's 65,535 of them that would be a 5xx.
     */
    @Test
    void aServerAdminListsMoreProjectsThanAQueryTakesParameters() {
        String prefix = key("many");
        int count = 65_600;
        jdbc.sql("""
                insert into projects (key, name, created_at)
                select :prefix || '-' || lpad(i::text, 5, '0'), 'many', now() from generate_series(1, :count) i
                """).param("prefix", prefix).param("count", count).update();
        try {
            Api.Response list = api.get("/api/projects");
            assertThat(list.status()).as(list.toString().substring(0, Math.min(500, list.toString().length())))
                .isEqualTo(200);
            List<String> keys = new ArrayList<>();
            list.json().get("items").forEach(item -> keys.add(item.get("key").asString()));
            assertThat(keys).isSorted();
            assertThat(keys.stream().filter(k -> k.startsWith(prefix + "-"))).hasSize(count);
        }
        finally {
            jdbc.sql("delete from projects where key like :pattern").param("pattern", prefix + "-%").update();
        }
    }

    @Test
    void unknownProjectIsNotFound() {
        Api.Response missing = api.get("/api/projects/" + key("missing"));
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.contentType()).startsWith("application/problem+json");
        assertThat(missing.json().get("code").asString()).isEqualTo("not-found");
        assertThat(missing.json().get("type").asString()).isEqualTo("/problems/not-found");
    }

    @Test
    void invalidKeyIsRejected() {
        for (String bad : List.of("Upper", "-dash-first", "a".repeat(65), "sp%20ace", "%C3%A9t%C3%A9")) {
            Api.Response response = api.put("/api/projects/" + bad, "{\"name\":\"x\"}");
            assertThat(response.status()).as(bad).isEqualTo(400);
            assertThat(response.json().get("code").asString()).isEqualTo("validation-failed");
            assertThat(response.json().get("errors").get(0).get("field").asString()).isEqualTo("key");
            assertThat(api.get("/api/projects/" + bad).status()).as(bad).isEqualTo(400);
        }
        assertThat(api.put("/api/projects/" + "a".repeat(64), "{\"name\":\"x\"}").status()).isIn(200, 201);
    }

    /**
     * {@code busyPolicy} (issue 16): {@code queue} for a new project that does not say,
     * kept by an update that does not say, changed (and audited) by one that does;
     * anything else is {@code 400 validation-failed}.
     */
    @Test
    void busyPolicyDefaultsToQueueIsKeptWhenAbsentAndValidated() {
        String key = key("busy");
        Api.Response created = api.put("/api/projects/" + key, "{\"name\":\"b\"}");
        assertThat(created.status()).isEqualTo(201);
        assertThat(created.json().get("busyPolicy").asString()).isEqualTo("queue");
        Api.Response rejecting = api.put("/api/projects/" + key, "{\"name\":\"b\",\"busyPolicy\":\"reject\"}");
        assertThat(rejecting.status()).isEqualTo(200);
        assertThat(rejecting.json().get("busyPolicy").asString()).isEqualTo("reject");
        Api.Response renamed = api.put("/api/projects/" + key, "{\"name\":\"renamed\"}");
        assertThat(renamed.status()).isEqualTo(200);
        assertThat(renamed.json().get("busyPolicy").asString()).isEqualTo("reject");
        assertThat(api.put("/api/projects/" + key, "{\"name\":\"renamed\",\"busyPolicy\":\"reject\"}").status())
            .as("the same settings")
            .isEqualTo(200);
        String created2 = key("busy2");
        assertThat(api.put("/api/projects/" + created2, "{\"name\":\"r\",\"busyPolicy\":\"reject\"}")
            .json()
            .get("busyPolicy")
            .asString()).isEqualTo("reject");
        for (String bad : List.of("\"wait\"", "\"\"", "\"QUEUE\"")) {
            Api.Response response = api.put("/api/projects/" + key,
                    "{\"name\":\"renamed\",\"busyPolicy\":" + bad + "}");
            assertThat(response.status()).as(bad).isEqualTo(400);
            assertThat(response.json().get("code").asString()).isEqualTo("validation-failed");
            assertThat(response.json().get("errors").get(0).get("field").asString()).isEqualTo("busyPolicy");
        }
        assertThat(api.get("/api/projects/" + key).json().get("busyPolicy").asString()).isEqualTo("reject");
        assertThat(jdbc
            .sql("select count(*) from audit_log where action = 'project.updated' and target = :t"
                    + " and details::text like '%busyPolicy%'")
            .param("t", "project:" + key)
            .query(Integer.class)
            .single()).isEqualTo(1);
    }

    @Test
    void invalidSettingsListEveryField() {
        Api.Response response = api.put("/api/projects/" + key("bad"), "{\"name\":\" \",\"repoUrl\":\"not a url\"}");
        assertThat(response.status()).isEqualTo(400);
        JsonNode problem = response.json();
        assertThat(problem.get("code").asString()).isEqualTo("validation-failed");
        List<String> fields = new ArrayList<>();
        problem.get("errors").forEach(error -> {
            fields.add(error.get("field").asString());
            assertThat(error.get("message").asString()).isNotBlank();
        });
        assertThat(fields).containsExactlyInAnyOrder("name", "repoUrl");

        assertThat(api.put("/api/projects/" + key("long"), "{\"name\":\"" + "n".repeat(201) + "\"}").status())
            .isEqualTo(400);
        assertThat(
                api.put("/api/projects/" + key("ssh"), "{\"name\":\"s\",\"repoUrl\":\"git@github.com:acme/web.git\"}")
                    .status())
            .isEqualTo(201);
    }

    /**
     * Only what the workspace's clone fetches safely: https, ssh, scp-like, file:// where
     * allowed (the tests allow it); nothing that carries a password or could be an option
     * or another transport.
     */
    @Test
    void repositoryUrlsAreHttpsSshOrScpLike() {
        for (String url : List.of("https://github.com/acme/web.git", "https://git.example:8443/a/b",
                "ssh://git@github.com/acme/web.git", "ssh://host:2222/srv/repo", "git@github.com:acme/web.git",
                "deploy_user@10.0.0.1:repos/x.git", "file:///srv/repos/x.git", "https://[::1]/repo.git")) {
            Api.Response response = api.checkingRequests()
                .put("/api/projects/" + key("ok"), Api.json(java.util.Map.of("name", "ok", "repoUrl", url)));
            assertThat(response.status()).as(url + " -> " + response).isEqualTo(201);
        }
        for (String url : List.of("http://github.com/acme/web.git", "git://github.com/acme/web.git",
                "ext::sh -c touch% /tmp/pwned", "-uhelp", "--upload-pack=touch /tmp/x",
                "https://user:secret-pw@github.com/a.git", "https://:secret-pw@github.com/a.git",
                "https://secret-pw@github.com/a.git", "https://robot@git.example/a.git", "ssh://-oProxyCommand=x/repo",
                "ssh://git@-host/repo", "git@-oProxyCommand=x:repo", "https://github.com/a b.git",
                "https://github.com/a\tb.git", "https://github.com/a\nb", "https://github.com/a\u00a0b",
                "ftp://host/repo", "/srv/repos/x.git", "host:repo.git", "file:relative", "HTTPS://github.com/a.git",
                "https://")) {
            Api.Response response = api.put("/api/projects/" + key("bad"),
                    Api.json(java.util.Map.of("name", "bad", "repoUrl", url)));
            assertThat(response.status()).as(url + " -> " + response).isEqualTo(400);
            assertThat(response.json().get("code").asString()).isEqualTo("validation-failed");
            assertThat(response.json().get("errors").get(0).get("field").asString()).isEqualTo("repoUrl");
            assertThat(response.json().get("errors").get(0).get("message").asString()).contains("https://", "ssh://",
                    "user@host:path");
            assertThat(response.text()).doesNotContain("secret-pw");
        }
    }

    @Test
    void malformedBodiesAreProblems() {
        String key = key("malformed");
        for (String body : List.of("{not json", "", "[1,2]", "{\"name\": {\"a\": 1}}", "\"text\"")) {
            Api.Response response = api.put("/api/projects/" + key, body);
            assertThat(response.status()).as(body).isEqualTo(400);
            assertThat(response.contentType()).startsWith("application/problem+json");
            assertThat(response.json().get("code").asString()).as(body).isIn("malformed-request", "validation-failed");
        }
        Api.Response wrongType = api.send(HttpRequest.newBuilder(api.uri("/api/projects/" + key))
            .header("Content-Type", "text/plain")
            .PUT(HttpRequest.BodyPublishers.ofString("name=x")));
        assertThat(wrongType.status()).isEqualTo(400);
        assertThat(wrongType.json().get("code").asString()).isEqualTo("malformed-request");
    }

}
