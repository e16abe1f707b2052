package dev.collab.access;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A server started without {@code collab.auth.first-admin.*} and without users logs one
 * setup link; the link creates the first admin once, and an expired one creates nobody.
 */
@IntegrationTest
@ExtendWith(OutputCaptureExtension.class)
@TestPropertySource(properties = { "collab.auth.first-admin.login=", "collab.auth.first-admin.password=" })
class BootstrapTest {

    private static final Pattern LINK = Pattern.compile("http://localhost:(\\d+)/setup\\?token=([A-Za-z0-9_-]+)");

    @LocalServerPort
    int port;

    @Autowired
    JdbcClient jdbc;

    @Autowired
    Api api;

    @Autowired
    MutableClock clock;

    @AfterEach
    void releaseClock() {
        clock.release();
    }

    @Test
    void theSetupLinkInTheLogCreatesTheFirstAdminOnceAndAnExpiredOneNobody(CapturedOutput output) throws Exception {
        Matcher link = LINK.matcher(output.getAll());
        assertThat(link.find()).as("a setup link in the log:\n" + output.getAll()).isTrue();
        assertThat(link.group(1)).isEqualTo(Integer.toString(port));
        assertThat(LINK.matcher(output.getAll()).results().count()).as("logged once").isEqualTo(1);
        String token = link.group(2);
        // Only its hash is stored.
        assertThat(jdbc.sql("select count(*) from setup_tokens where token_hash = sha256(convert_to(:t, 'UTF8'))")
            .param("t", token)
            .query(Integer.class)
            .single()).isEqualTo(1);

        Api anonymous = api.anonymous();
        String project = "pre-" + Long.toString(System.nanoTime(), 36);
        jdbc.sql("insert into projects (key, name, created_at) values (:k, 'existing', now())")
            .param("k", project)
            .update();

        // The setup page is served (static HTML and its module), with the CSP.
        // Pages are not in the API's document.
        Api pages = Api.withoutContract(anonymous.base()).anonymous();
        Api.Response page = pages.get("/setup?token=" + token);
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.text()).contains("<script type=\"module\" src=\"/app/main.js\"></script>")
            .doesNotContain("onclick");
        assertThat(page.header("Content-Security-Policy")).hasValue(SecurityConfiguration.CSP);
        assertThat(pages.get("/app/views/setup.js").status()).isEqualTo(200);

        // An expired link creates nobody.
        String expired = "expired-setup-token-for-this-test";
        jdbc.sql("""
                insert into setup_tokens (token_hash, created_at, expires_at)
                values (sha256(convert_to(:t, 'UTF8')), now(), now() + interval '24 hours')
                """).param("t", expired).update();
        clock.freezeAt(Instant.now().plus(Duration.ofHours(25)));
        AccessTest.assertProblem(setup(anonymous, expired, "late"), 404, "not-found");
        clock.release();

        Api.Response created = setup(anonymous, token, "root");
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        assertThat(created.json().path("admin").asBoolean()).isTrue();
        // Once only.
        AccessTest.assertProblem(setup(anonymous, token, "again"), 404, "not-found");

        Api root = api.anonymous().as("root", "a long enough password");
        assertThat(root.get("/api/me").json().path("projects").toString())
            .contains("{\"key\":\"" + project + "\",\"role\":\"admin\"}");
        assertThat(jdbc
            .sql("select role from project_members m join users u on u.id = m.user_id where u.login = 'root' "
                    + "and m.project_key = :k")
            .param("k", project)
            .query(String.class)
            .single()).isEqualTo("admin");
    }

    private static Api.Response setup(Api api, String token, String login) {
        return api.post("/api/auth/setup",
                Api.json(Map.of("token", token, "login", login, "password", "a long enough password")));
    }

}
