package dev.collab.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import dev.collab.support.Api;
import dev.collab.support.Browser;
import dev.collab.support.Browsers;
import dev.collab.support.IntegrationTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With {@code collab.auth.users-create-projects=false} a user's "Create project" is
 * answered in words, and nothing is created. (The settings of
 * {@code ProjectCreationRestrictedTest}: the two share one server.)
 */
@IntegrationTest
@TestPropertySource(properties = "collab.auth.users-create-projects=false")
class ProjectCreationRestrictedBrowserTest {

    @RegisterExtension
    static final Browsers browsers = new Browsers();

    @Autowired
    Api api;

    @Test
    void aUserWhoMayNotCreateProjectsIsToldSo() {
        String login = ProjectsBrowserTest.unique("rita");
        api.createUser(login, "rita-password-123", false);
        Browser b = browsers.get("browser", api.base());
        b.login(login, "rita-password-123");
        assertThat(b.await(By.id("projects")).getText()).contains("not in any project yet").contains(login);
        String key = ProjectsBrowserTest.unique("nope");
        ProjectsBrowserTest.type(b, "project-key", key);
        ProjectsBrowserTest.type(b, "project-name", "Nope");
        b.driver().findElement(By.cssSelector("#new-project button[type=submit]")).click();
        b.waitUntil(d -> d.findElement(By.id("new-project-status")).getText().contains("may not create projects"));
        assertThat(b.driver().getCurrentUrl()).isEqualTo(api.base() + "/");
        assertThat(api.get("/api/projects/" + key).status()).isEqualTo(404);
    }

}
