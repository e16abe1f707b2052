package dev.collab.app;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.test.context.TestPropertySource;

import dev.collab.support.Api;
import dev.collab.support.Browser;
import dev.collab.support.Browsers;
import dev.collab.support.IntegrationTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A server without users and without {@code collab.auth.first-admin.*}: the setup link it
 * logs opens the setup page, which creates the first admin and ends logged in. (Its own
 * server: {@code BootstrapTest} uses up the link of the context it shares.)
 */
@IntegrationTest
@ExtendWith(OutputCaptureExtension.class)
@TestPropertySource(properties = { "collab.auth.first-admin.login=", "collab.auth.first-admin.password=",
        "collab.auth.users-create-projects=true" })
class SetupBrowserTest {

    private static final Pattern LINK = Pattern.compile("http://localhost:\\d+(/setup\\?token=[A-Za-z0-9_-]+)");

    @RegisterExtension
    static final Browsers browsers = new Browsers();

    @Autowired
    Api api;

    @Test
    void theSetupLinkCreatesTheFirstAdminAndLogsThemIn(CapturedOutput output) {
        Matcher link = LINK.matcher(output.getAll());
        assertThat(link.find()).as("a setup link in the log").isTrue();
        Browser b = browsers.get("browser", api.base());
        b.go("/setup");
        assertThat(b.await(By.id("status")).getText()).contains("needs the setup link");
        b.go(link.group(1));
        b.await(By.id("login")).sendKeys("root");
        b.driver().findElement(By.id("displayName")).sendKeys(ProjectsBrowserTest.HOSTILE);
        b.driver().findElement(By.id("password")).sendKeys("the-first-admin-password");
        b.assertAccessible();
        b.screenshot(ProjectsBrowserTest.SCREENSHOTS.resolve("light-setup.png"));
        b.driver().findElement(By.cssSelector("#setup button[type=submit]")).click();
        b.waitUntil(d -> d.getCurrentUrl().equals(api.base() + "/"));
        assertThat(b.await(By.id("whoami")).getText()).isEqualTo(ProjectsBrowserTest.HOSTILE);
        // Logged in as a server admin: the empty projects list says what to do, Users is
        // there.
        assertThat(b.await(By.id("projects")).getText()).contains("not in any project yet");
        assertThat(b.driver().findElement(By.id("nav-users")).isDisplayed()).isTrue();
        assertThat(b.script("return window.__xss === undefined")).isEqualTo(true);
        assertThat(b.consoleErrors()).filteredOn(e -> !e.contains("Failed to load resource")).isEmpty();
    }

}
