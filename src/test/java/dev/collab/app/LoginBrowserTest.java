package dev.collab.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.springframework.beans.factory.annotation.Autowired;

import dev.collab.support.Api;
import dev.collab.support.Browser;
import dev.collab.support.Browsers;
import dev.collab.support.IntegrationTest;

import static org.assertj.core.api.Assertions.assertThat;

/** Logging in and out in a real Chromium. */
@IntegrationTest
class LoginBrowserTest {

    @RegisterExtension
    static final Browsers browsers = new Browsers();

    @Autowired
    Api api;

    Browser browser() {
        return browsers.get("browser", api.base());
    }

    @Test
    void aDeepLinkAsksToLogInThenLandsWhereItPointed() {
        Browser b = browser();
        b.go("/tokens");
        b.waitUntil(d -> d.getCurrentUrl().contains("/login?redirect=%2Ftokens"));
        b.await(By.id("login"));
        b.assertAccessible();
        b.driver().findElement(By.id("login")).sendKeys(Api.ADMIN_LOGIN);
        b.driver().findElement(By.id("password")).sendKeys("wrong password!");
        b.driver().findElement(By.cssSelector("form button[type=submit]")).click();
        b.waitUntil(d -> d.findElement(By.id("login-error")).getText().contains("login or password"));
        b.driver().findElement(By.id("password")).sendKeys(Api.ADMIN_PASSWORD);
        b.driver().findElement(By.cssSelector("form button[type=submit]")).click();
        b.waitUntil(d -> d.getCurrentUrl().endsWith("/tokens"));
        assertThat(b.await(By.id("whoami")).getText()).isNotBlank();
        b.driver().findElement(By.id("logout")).click();
        b.waitUntil(d -> d.getCurrentUrl().endsWith("/login"));
        assertThat(b.consoleErrors()).filteredOn(e -> !e.contains("401")).isEmpty();
    }

}
