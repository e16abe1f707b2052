package dev.collab.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.springframework.beans.factory.annotation.Autowired;

import dev.collab.support.Api;
import dev.collab.support.Browser;
import dev.collab.support.Browsers;
import dev.collab.support.IntegrationTest;

import static dev.collab.app.ProjectsBrowserTest.HOSTILE;
import static org.assertj.core.api.Assertions.assertThat;

/** Access tokens and the users screen in a real Chromium. */
@IntegrationTest
class AccountBrowserTest {

    @RegisterExtension
    static final Browsers browsers = new Browsers();

    @Autowired
    Api api;

    Browser admin() {
        return browsers.loggedIn("admin", api.base(), Api.ADMIN_LOGIN, Api.ADMIN_PASSWORD);
    }

    Browser other(String login, String password) {
        return browsers.get("other", api.base()).login(login, password);
    }

    static void type(Browser b, String id, String text) {
        WebElement input = b.await(By.id(id));
        input.clear();
        input.sendKeys(text);
    }

    static void assertNothingRan(Browser b) {
        assertThat(b.script("return window.__xss === undefined")).isEqualTo(true);
        assertThat(b.script("return document.querySelectorAll('main img, main script, main iframe').length"))
            .isEqualTo(0L);
        assertThat(b.consoleErrors()).filteredOn(e -> !e.contains("Failed to load resource")).isEmpty();
    }

    @Test
    void aTokenIsShownOnceWorksAsBearerAndStopsWhenRevoked() {
        String login = ProjectsBrowserTest.unique("tia");
        api.createUser(login, "tia-password-123", false);
        Browser b = other(login, "tia-password-123");
        b.go("/tokens");
        type(b, "token-name", HOSTILE);
        b.driver().findElement(By.cssSelector("#new-token button[type=submit]")).click();
        String token = b.await(By.id("new-token-value")).getText();
        assertThat(token).startsWith("collab_pat_");
        assertThat(b.driver().findElement(By.id("new-token-card")).getText()).contains("you will not see it again");
        assertThat(b.driver().getCurrentUrl()).doesNotContain(token);
        assertThat(api.withToken(token).get("/api/me").json().get("login").asString()).isEqualTo(login);

        // Listed (name as text, last use recorded), and after a reload the value is gone.
        b.driver().navigate().refresh();
        WebElement row = b.await(By.cssSelector(".token-row"));
        assertThat(row.findElement(By.cssSelector(".name")).getText()).isEqualTo(HOSTILE);
        assertThat(b.driver().findElements(By.id("new-token-value"))).isEmpty();
        assertThat(b.driver().getPageSource()).doesNotContain(token);
        assertNothingRan(b);

        row.findElement(By.cssSelector("button.revoke")).click();
        b.await(By.id("confirm-revoke-yes")).click();
        b.waitUntil(d -> d.findElements(By.cssSelector(".token-row")).isEmpty());
        assertThat(b.driver().findElement(By.id("tokens-status")).getText()).contains("revoked");
        assertThat(api.withToken(token).get("/api/me").status()).isEqualTo(401);

        // An expiry date: the token works until the end of that day (UTC).
        type(b, "token-name", "ci");
        b.script("arguments[0].value = '2099-01-31'", b.driver().findElement(By.id("token-expires")));
        b.driver().findElement(By.cssSelector("#new-token button[type=submit]")).click();
        String expiring = b.await(By.id("new-token-value")).getText();
        WebElement listed = b.await(By.cssSelector(".token-row"));
        assertThat(listed.findElement(By.cssSelector("time[datetime^='2099-01-31T23:59:59']")).isDisplayed()).isTrue();
        assertThat(api.withToken(expiring).get("/api/me").status()).isEqualTo(200);
        b.assertAccessible();
    }

    @Test
    void anAdminCreatesAUserMakesThemAdminAndDisablesThemWhichLogsThemOut() {
        String login = ProjectsBrowserTest.unique("uma");
        Browser b = admin();
        b.go("/users");
        type(b, "new-login", login);
        type(b, "new-display-name", HOSTILE);
        type(b, "new-password", "uma-password-123");
        b.driver().findElement(By.cssSelector("#new-user button[type=submit]")).click();
        WebElement row = b.await(By.cssSelector(".user-row[data-login='" + login + "']"));
        assertThat(row.findElement(By.cssSelector(".display-name")).getText()).isEqualTo(HOSTILE);
        assertThat(b.driver().findElement(By.id("new-user-status")).getText()).contains("created");
        // A taken login: the server's field error next to the field.
        type(b, "new-login", login);
        type(b, "new-password", "uma-password-123");
        b.driver().findElement(By.cssSelector("#new-user button[type=submit]")).click();
        b.await(By.id("new-login-error"));
        assertNothingRan(b);

        // The new user logs in in another browser.
        Browser u = other(login, "uma-password-123");
        assertThat(u.driver().findElement(By.id("nav-users")).isDisplayed()).isFalse();
        u.go("/users");
        assertThat(u.await(By.id("users-forbidden")).getText()).contains("Only server admins");

        b.driver().findElement(By.cssSelector(".user-row[data-login='" + login + "'] button.toggle-admin")).click();
        b.waitUntil(d -> "true".equals(
                d.findElement(By.cssSelector(".user-row[data-login='" + login + "']")).getDomAttribute("data-admin")));
        assertThat(userJson(login).get("admin").asBoolean()).isTrue();

        // A new password, given in a dialog.
        b.driver().findElement(By.cssSelector(".user-row[data-login='" + login + "'] button.reset-password")).click();
        type(b, "reset-password-value", "uma-new-password-456");
        b.driver().findElement(By.id("reset-password-save")).click();
        b.waitUntil(d -> d.findElements(By.id("reset-password")).isEmpty());
        assertThat(b.driver().findElement(By.id("users-status")).getText()).contains("password of " + login);
        assertThat(api.as(login, "uma-new-password-456").get("/api/me").status()).isEqualTo(200);
        u.login(login, "uma-new-password-456");
        u.go("/tokens");
        u.await(By.id("new-token"));
        b.driver().findElement(By.cssSelector(".user-row[data-login='" + login + "'] button.toggle-disabled")).click();
        b.waitUntil(d -> "true".equals(d.findElement(By.cssSelector(".user-row[data-login='" + login + "']"))
            .getDomAttribute("data-disabled")));
        assertThat(userJson(login).get("disabled").asBoolean()).isTrue();

        // The disabled user's next request takes their browser to the login page.
        u.driver().findElement(By.cssSelector("#nav a[href='/']")).click();
        u.waitUntil(d -> d.getCurrentUrl().contains("/login"));
        u.await(By.id("login"));
        assertThat(u.driver().findElement(By.id("logout")).isDisplayed()).isFalse();
        b.assertAccessible();
    }

    tools.jackson.databind.JsonNode userJson(String login) {
        for (tools.jackson.databind.JsonNode user : api.get("/api/users").json().get("items")) {
            if (user.get("login").asString().equals(login)) {
                return user;
            }
        }
        throw new AssertionError("no user " + login);
    }

}
