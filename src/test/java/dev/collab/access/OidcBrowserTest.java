package dev.collab.access;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.springframework.boot.test.web.server.LocalServerPort;

import dev.collab.support.Browser;
import dev.collab.support.Browsers;
import dev.collab.support.IntegrationTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The browser app's "Sign in with …" followed all the way in a real Chromium: to the
 * provider ({@link OidcTestProvider}), its login form, and back to the page the user
 * asked for, logged in. Here (not in dev.collab.app) because the provider is this
 * package's.
 */
@IntegrationTest
class OidcBrowserTest extends OidcProviderTestBase {

    @RegisterExtension
    static final Browsers browsers = new Browsers();

    @LocalServerPort
    int port;

    @Test
    void signInWithTheProviderAndLandWhereTheLinkPointed() {
        String username = "olga-" + Long.toString(System.nanoTime(), 36);
        OidcLoginTest.provides(username, username, "Olga Example", username + "@example.com", true);
        // 127.0.0.1: the loopback redirect URI the provider accepts (see OidcLoginTest).
        Browser b = browsers.get("browser", "http://127.0.0.1:" + port);
        b.go("/tokens");
        b.waitUntil(d -> d.getCurrentUrl().contains("/login?redirect=%2Ftokens"));
        b.await(By.id("oidc-login")).click();
        // The provider's own login form (Spring Authorization Server's default page).
        b.await(By.id("username")).sendKeys(username);
        b.driver().findElement(By.id("password")).sendKeys(OidcTestProvider.PASSWORD);
        b.driver().findElement(By.cssSelector("button[type=submit]")).click();
        b.waitUntil(d -> d.getCurrentUrl().equals("http://127.0.0.1:" + port + "/tokens"));
        assertThat(b.await(By.id("whoami")).getText()).isEqualTo("Olga Example");
        b.await(By.id("new-token"));
    }

}
