package dev.collab.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import dev.collab.support.Api;
import dev.collab.support.Browser;
import dev.collab.support.Browsers;
import dev.collab.support.IntegrationTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The login page with OIDC configured offers "Sign in with …" pointing at the server's
 * OIDC start, keeps the redirect target, and says in words why a sign-in came back with
 * an error. (The same settings as {@code OidcProviderDownTest}, so the two share one
 * server: the provider is only asked when someone follows the button.)
 */
@IntegrationTest
@TestPropertySource(properties = { "collab.auth.oidc.issuer-uri=http://127.0.0.1:1/unreachable",
        "collab.auth.oidc.client-id=collab", "collab.auth.oidc.client-secret=unused-secret" })
class OidcLoginBrowserTest {

    @RegisterExtension
    static final Browsers browsers = new Browsers();

    @Autowired
    Api api;

    @Test
    void theLoginPageOffersSignInWithTheProvider() {
        Browser b = browsers.get("browser", api.base());
        b.go("/login");
        WebElement button = b.await(By.id("oidc-login"));
        assertThat(button.getText()).isEqualTo("Sign in with 127.0.0.1");
        assertThat(button.getDomAttribute("href")).isEqualTo("/api/auth/oidc");
        assertThat(b.driver().findElement(By.id("password")).isDisplayed()).isTrue();
        // Logged out: no menu, no "Log out".
        assertThat(b.driver().findElement(By.id("nav")).isDisplayed()).isFalse();
        assertThat(b.driver().findElement(By.id("logout")).isDisplayed()).isFalse();
        b.assertAccessible();
        b.screenshot(ProjectsBrowserTest.SCREENSHOTS.resolve("light-login-oidc.png"));

        b.go("/login?redirect=%2Ftokens");
        assertThat(b.await(By.id("oidc-login")).getDomAttribute("href")).isEqualTo("/api/auth/oidc?redirect=%2Ftokens");

        b.go("/login?error=oidc");
        assertThat(b.await(By.id("login-error")).getText()).contains("did not work");
        b.go("/login?error=disabled");
        assertThat(b.await(By.id("login-error")).getText()).contains("disabled");
    }

}
