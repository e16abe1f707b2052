package dev.collab.access;

import java.time.Clock;
import java.util.Map;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.TestPropertySource;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * "Existing projects get the first admin as their admin", on the
 * {@code collab.auth.first-admin.*} path (BootstrapTest covers the setup link): projects
 * that are in the database before any user exists (a server upgraded from before issue
 * 13) belong to the first admin once the server starts with the properties.
 */
@IntegrationTest
// Its own context and database: no user exists when the test starts.
@TestPropertySource(properties = { "collab.auth.first-admin.login=", "collab.auth.first-admin.password=",
        "collab.auth.setup-link-validity=2h" })
class FirstAdminMigrationTest {

    @Autowired
    JdbcClient jdbc;

    @Autowired
    Users users;

    @Autowired
    Audit audit;

    @Autowired
    TransactionTemplate transactions;

    @Autowired
    Environment environment;

    @Autowired
    Clock clock;

    @Autowired
    Api api;

    @Test
    void theFirstAdminFromThePropertiesBecomesAdminOfEveryExistingProject() {
        assertThat(jdbc.sql("select count(*) from users").query(Integer.class).single()).isZero();
        for (String key : new String[] { "legacy-a", "legacy-b" }) {
            jdbc.sql("insert into projects (key, name, created_at) values (:k, 'from before', now())")
                .param("k", key)
                .update();
        }

        // What the server does at startup with collab.auth.first-admin.* set.
        AuthProperties properties = new Binder(new MapConfigurationPropertySource(Map
            .of("collab.auth.first-admin.login", "owner", "collab.auth.first-admin.password", "owner password 1")))
            .bindOrCreate("collab.auth", AuthProperties.class);
        new Bootstrap(jdbc, users, audit, properties, transactions, environment, clock).onReady();

        Api owner = api.anonymous().as("owner", "owner password 1");
        assertThat(owner.get("/api/me").json().path("projects").toString())
            .contains("{\"key\":\"legacy-a\",\"role\":\"admin\"}", "{\"key\":\"legacy-b\",\"role\":\"admin\"}");
        assertThat(jdbc.sql("""
                select count(*) from project_members m join users u on u.id = m.user_id
                where u.login = 'owner' and m.role = 'admin' and m.project_key in ('legacy-a', 'legacy-b')
                """).query(Integer.class).single()).isEqualTo(2);
        // So the projects can have their members managed at once: the owner is their
        // admin member (not only a server admin).
        assertThat(owner.get("/api/projects/legacy-a/members").json().path("items").toString())
            .contains("\"login\":\"owner\"", "\"role\":\"admin\"");
    }

}
