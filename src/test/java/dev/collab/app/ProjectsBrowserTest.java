package dev.collab.app;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import dev.collab.support.Api;
import dev.collab.support.Browser;
import dev.collab.support.Browsers;
import dev.collab.support.IntegrationTest;
import dev.collab.support.TestContexts;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The projects list, a project's sessions and its settings in a real Chromium: what an
 * admin, a viewer and a non-member see and can do, hostile names shown as text, axe-core,
 * 360 px.
 */
@IntegrationTest
// A run lasts until interrupted (the tests' default of 4 s would end the RUNNING row that
// the accessibility check needs before the pages are checked).
@TestPropertySource(properties = TestContexts.LONG_RUNS)
class ProjectsBrowserTest {

    /** Every kind of markup and link a name could try to smuggle in. */
    static final String HOSTILE = "<img src=x onerror=window.__xss=1><script>window.__xss=1</script>javascript:alert(1)";

    static final Path SCREENSHOTS = Path.of("target", "screenshots");

    @RegisterExtension
    static final Browsers browsers = new Browsers();

    @Autowired
    Api api;

    /** The first admin (a server admin), logged in once for the class. */
    Browser admin() {
        return browsers.loggedIn("admin", api.base(), Api.ADMIN_LOGIN, Api.ADMIN_PASSWORD);
    }

    /** A second browser, logged in as {@code login}. */
    Browser other(String login, String password) {
        return browsers.withoutCookies("other", api.base()).login(login, password);
    }

    static String unique(String prefix) {
        return prefix + "-" + Long.toString(System.nanoTime(), 36);
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
        // Expected 4xx answers are logged by Chromium as failed loads; anything else is a
        // bug.
        assertThat(b.consoleErrors()).filteredOn(e -> !e.contains("Failed to load resource")).isEmpty();
    }

    List<WebElement> rows(Browser b) {
        return b.driver().findElements(By.cssSelector("#sessions .session-row"));
    }

    WebElement row(Browser b, UUID id) {
        return b.await(By.cssSelector(".session-row[data-id='" + id + "']"));
    }

    @Test
    void aUserCreatesAProjectAndASessionThroughTheFormsWithHostileNamesShownAsText() {
        Browser b = admin();
        b.go("/");
        String key = unique("web");
        type(b, "project-key", key);
        type(b, "project-name", HOSTILE);
        type(b, "project-repo", "https://git.example.com/acme/web.git");
        b.driver().findElement(By.cssSelector("#new-project button[type=submit]")).click();
        b.waitUntil(d -> d.getCurrentUrl().endsWith("/p/" + key));
        assertThat(b.await(By.tagName("h1")).getText()).isEqualTo(HOSTILE);
        assertNothingRan(b);

        // Listed, with the caller's role; the same key again is said to exist.
        b.go("/");
        WebElement link = b.await(By.cssSelector("a.project-link[href='/p/" + key + "']"));
        assertThat(link.getText()).isEqualTo(HOSTILE);
        assertThat(link.findElement(By.xpath("..")).getText()).contains(key).contains("admin");
        type(b, "project-key", key);
        type(b, "project-name", HOSTILE);
        type(b, "project-repo", "https://git.example.com/acme/web.git");
        b.driver().findElement(By.cssSelector("#new-project button[type=submit]")).click();
        b.waitUntil(d -> d.findElement(By.id("new-project-status")).getText().contains("exists already"));
        type(b, "project-name", "Other name");
        b.driver().findElement(By.cssSelector("#new-project button[type=submit]")).click();
        b.waitUntil(d -> d.findElement(By.id("new-project-status")).getText().contains("taken by another project"));
        // A bad key: the server's field error next to the field (the browser's own check
        // is
        // bypassed to see the server's answer).
        b.script("document.getElementById('new-project').noValidate = true");
        type(b, "project-key", "Bad Key");
        b.driver().findElement(By.cssSelector("#new-project button[type=submit]")).click();
        b.await(By.id("project-key-error"));
        assertThat(b.driver().findElement(By.id("project-key")).getDomAttribute("aria-invalid")).isEqualTo("true");

        b.driver().findElement(By.cssSelector("a.project-link[href='/p/" + key + "']")).click();
        b.waitUntil(d -> d.getCurrentUrl().endsWith("/p/" + key));
        type(b, "session-title", HOSTILE);
        b.driver().findElement(By.cssSelector("#new-session button[type=submit]")).click();
        b.waitUntil(d -> d.getCurrentUrl().matches(".*/p/" + key + "/s/[0-9a-f-]{36}$"));
        b.await(By.tagName("h1"));
        String session = b.driver().getCurrentUrl().replaceAll(".*/s/", "");

        b.driver().navigate().back();
        WebElement row = row(b, UUID.fromString(session));
        assertThat(row.findElement(By.cssSelector("td.title a")).getText()).isEqualTo(HOSTILE);
        assertThat(row.findElement(By.cssSelector(".badge.state-IDLE")).getText()).isEqualTo("IDLE");
        assertNothingRan(b);
    }

    @Test
    void theStateFilterIsInTheAddressAndLoadMoreAppendsTheNextPage() {
        String key = api.newProject("many");
        for (int i = 0; i < 23; i++) {
            api.newSession(key);
        }
        List<UUID> ended = List.of(api.newSession(key), api.newSession(key), api.newSession(key));
        for (UUID id : ended) {
            assertThat(api.delete("/api/sessions/" + id).status()).isEqualTo(204);
        }
        Browser b = admin();
        b.go("/p/" + key);
        b.waitUntil(d -> rows(b).size() == 20);
        b.await(By.id("load-more")).click();
        b.waitUntil(d -> rows(b).size() == 26);
        assertThat(b.driver().findElement(By.id("load-more")).isDisplayed()).isFalse();
        // Newest activity first: the three just ended lead the list.
        assertThat(rows(b).subList(0, 3))
            .allSatisfy(r -> assertThat(r.getDomAttribute("data-state")).isEqualTo("ENDED"));

        new Select(b.driver().findElement(By.id("state-filter"))).selectByValue("ENDED");
        b.waitUntil(d -> d.getCurrentUrl().endsWith("/p/" + key + "?state=ENDED"));
        b.waitUntil(d -> rows(b).size() == 3);
        assertThat(b.driver().switchTo().activeElement().getDomAttribute("id")).isEqualTo("state-filter");
        // Every page was loaded: the first page now having a next one brings back no
        // "Load
        // more" (it would only load rows already listed).
        assertThat(b.driver().findElement(By.id("load-more")).isDisplayed()).isFalse();

        b.driver().navigate().refresh();
        b.waitUntil(d -> rows(b).size() == 3);
        assertThat(new Select(b.await(By.id("state-filter"))).getFirstSelectedOption().getText()).isEqualTo("ENDED");

        b.driver().navigate().back();
        b.waitUntil(d -> d.getCurrentUrl().endsWith("/p/" + key));
        b.waitUntil(d -> rows(b).size() == 20);
        assertThat(new Select(b.await(By.id("state-filter"))).getFirstSelectedOption().getText()).isEqualTo("All");
        b.driver().navigate().forward();
        b.waitUntil(d -> d.getCurrentUrl().endsWith("?state=ENDED") && rows(b).size() == 3);
        assertNothingRan(b);
    }

    @Test
    void theListRefreshesByItselfAndKeepsTheLoadedPagesAndTheFocus() {
        String key = api.newProject("live");
        UUID old = api.newSession(key);
        for (int i = 0; i < 20; i++) {
            api.newSession(key);
        }
        Browser b = admin();
        b.go("/p/" + key);
        b.await(By.id("load-more")).click();
        b.waitUntil(d -> rows(b).size() == 21);
        b.script("window.__samePage = true");
        WebElement filter = b.driver().findElement(By.id("state-filter"));
        b.script("arguments[0].focus()", filter);

        UUID created = api.newSession(key);
        assertThat(api.delete("/api/sessions/" + old).status()).isEqualTo(204);
        WebElement appeared = b.waitUntil(Duration.ofSeconds(30),
                d -> d.findElements(By.cssSelector(".session-row[data-id='" + created + "']"))
                    .stream()
                    .findFirst()
                    .orElse(null));
        assertThat(appeared.getText()).contains("IDLE");
        b.waitUntil(Duration.ofSeconds(30), d -> "ENDED".equals(row(b, old).getDomAttribute("data-state")));
        // The ended session moved to the top; nothing was reloaded, nothing lost.
        assertThat(rows(b).get(0).getDomAttribute("data-id")).isEqualTo(old.toString());
        assertThat(rows(b)).hasSize(22);
        assertThat(b.script("return window.__samePage")).isEqualTo(true);
        assertThat(b.driver().switchTo().activeElement().getDomAttribute("id")).isEqualTo("state-filter");

        // With a filter, a session that leaves the state leaves the list by itself.
        new Select(filter).selectByValue("IDLE");
        b.waitUntil(d -> rows(b).size() == 20 && row(b, created).isDisplayed());
        assertThat(api.delete("/api/sessions/" + created).status()).isEqualTo(204);
        b.waitUntil(Duration.ofSeconds(30),
                d -> d.findElements(By.cssSelector(".session-row[data-id='" + created + "']")).isEmpty());
        assertThat(rows(b)).allSatisfy(r -> assertThat(r.getDomAttribute("data-state")).isEqualTo("IDLE"));

        // Even the row that holds the focus leaves; the focus goes to the status line.
        WebElement focused = rows(b).get(0);
        UUID focusedId = UUID.fromString(focused.getDomAttribute("data-id"));
        b.script("arguments[0].focus()", focused.findElement(By.tagName("a")));
        assertThat(api.delete("/api/sessions/" + focusedId).status()).isEqualTo(204);
        b.waitUntil(Duration.ofSeconds(30),
                d -> d.findElements(By.cssSelector(".session-row[data-id='" + focusedId + "']")).isEmpty());
        assertThat(b.driver().switchTo().activeElement().getDomAttribute("id"))
            .as(() -> String.valueOf(b.script("return document.activeElement.outerHTML.slice(0, 200)")))
            .isEqualTo("sessions-status");
        assertThat(b.driver().findElement(By.id("sessions-status")).getText()).contains("left this list");
    }

    @Test
    void anAdminEndsASessionFromTheListAfterConfirming() {
        String key = api.newProject("end");
        UUID session = api.newSession(key);
        Browser b = admin();
        b.go("/p/" + key);
        row(b, session).findElement(By.cssSelector("button.end")).click();
        b.await(By.id("confirm-end-no")).click();
        b.waitUntil(d -> d.findElements(By.id("confirm-end")).isEmpty());
        assertThat(api.get("/api/sessions/" + session).json().get("state").asString()).isEqualTo("IDLE");

        row(b, session).findElement(By.cssSelector("button.end")).sendKeys(Keys.ENTER);
        b.await(By.id("confirm-end-yes")).click();
        b.waitUntil(d -> "ENDED".equals(row(b, session).getDomAttribute("data-state")));
        assertThat(api.get("/api/sessions/" + session).json().get("state").asString()).isEqualTo("ENDED");
        assertThat(b.driver().findElement(By.id("sessions-status")).getText()).contains("ended");
        assertThat(row(b, session).findElement(By.cssSelector("button.end")).isDisplayed()).isFalse();
    }

    @Test
    void backAndForwardMoveBetweenTheListAndAProject() {
        String key = api.newProject("nav");
        Browser b = admin();
        b.go("/");
        b.await(By.cssSelector("a.project-link[href='/p/" + key + "']")).click();
        b.waitUntil(d -> d.getCurrentUrl().endsWith("/p/" + key));
        b.await(By.id("sessions"));
        b.driver().navigate().back();
        b.waitUntil(d -> d.getCurrentUrl().equals(api.base() + "/"));
        b.await(By.id("projects"));
        b.driver().navigate().forward();
        b.waitUntil(d -> d.getCurrentUrl().endsWith("/p/" + key));
        assertThat(b.await(By.tagName("h1")).getText()).isEqualTo("nav");
    }

    @Test
    void aProjectAdminRenamesTheProjectAndManagesItsMembers() {
        String key = api.newProject("settings");
        String login = unique("bea");
        api.createUser(login, "bea-password-123", false);
        Browser b = admin();
        b.go("/p/" + key);
        b.await(By.id("project-settings")).click();
        b.waitUntil(d -> d.getCurrentUrl().endsWith("/p/" + key + "/settings"));

        type(b, "project-name", "Renamed project");
        b.driver().findElement(By.cssSelector("#project-form button[type=submit]")).click();
        b.waitUntil(d -> d.findElement(By.id("project-status")).getText().equals("Saved."));
        assertThat(api.get("/api/projects/" + key).json().get("name").asString()).isEqualTo("Renamed project");
        // A field error from the server next to its field.
        type(b, "project-repo", "not a url");
        b.driver().findElement(By.cssSelector("#project-form button[type=submit]")).click();
        b.await(By.id("project-repo-error"));

        type(b, "member-login", login);
        new Select(b.driver().findElement(By.id("member-role"))).selectByValue("viewer");
        b.driver().findElement(By.cssSelector("#add-member button[type=submit]")).click();
        WebElement row = b.await(By.cssSelector(".member-row[data-login='" + login + "']"));
        assertThat(new Select(row.findElement(By.tagName("select"))).getFirstSelectedOption().getText())
            .isEqualTo("viewer");
        type(b, "member-login", "nobody-" + login);
        b.driver().findElement(By.cssSelector("#add-member button[type=submit]")).click();
        b.waitUntil(d -> d.findElement(By.id("add-member-status")).getText().contains("no user with the login"));

        // Arrow keys on the closed select only choose (Chromium fires `change` for each):
        // nothing is saved until "Save role" is pressed.
        WebElement roleSelect = b.driver()
            .findElement(By.cssSelector(".member-row[data-login='" + login + "'] select"));
        WebElement saveRole = b.driver()
            .findElement(By.cssSelector(".member-row[data-login='" + login + "'] button.save-role"));
        assertThat(saveRole.isEnabled()).isFalse();
        roleSelect.sendKeys(Keys.ARROW_DOWN);
        roleSelect.sendKeys(Keys.ARROW_DOWN);
        b.waitUntil(d -> "admin".equals(roleSelect.getDomProperty("value")));
        roleSelect.sendKeys(Keys.ARROW_UP);
        b.waitUntil(d -> "member".equals(roleSelect.getDomProperty("value")));
        assertThat(api.get("/api/projects/" + key + "/members").text()).contains("\"role\":\"viewer\"")
            .doesNotContain("\"role\":\"member\"");
        assertThat(b.driver().findElement(By.id("members-status")).getText()).doesNotContain("is now");
        saveRole.sendKeys(Keys.ENTER);
        b.waitUntil(d -> d.findElement(By.id("members-status")).getText().contains("is now member"));
        assertThat(api.get("/api/projects/" + key + "/members").text()).contains("\"role\":\"member\"");
        assertThat(saveRole.isEnabled()).isFalse();

        // The last admin cannot go: said in words, the role shown stays admin.
        WebElement me = b.driver().findElement(By.cssSelector(".member-row[data-login='admin'] select"));
        new Select(me).selectByValue("viewer");
        b.driver().findElement(By.cssSelector(".member-row[data-login='admin'] button.save-role")).click();
        b.waitUntil(d -> d.findElement(By.id("members-status")).getText().contains("no admin"));
        assertThat(new Select(b.driver().findElement(By.cssSelector(".member-row[data-login='admin'] select")))
            .getFirstSelectedOption()
            .getText()).isEqualTo("admin");

        // Escape closes the confirmation without removing; the focus goes back to the
        // button.
        b.driver().findElement(By.cssSelector(".member-row[data-login='" + login + "'] button.remove")).click();
        b.await(By.id("confirm-remove-no"));
        b.driver().switchTo().activeElement().sendKeys(Keys.ESCAPE);
        b.waitUntil(d -> d.findElements(By.id("confirm-remove")).isEmpty());
        assertThat(b
            .script("return document.activeElement.matches(\".member-row[data-login='" + login + "'] button.remove\")"))
            .isEqualTo(true);
        assertThat(api.get("/api/projects/" + key + "/members").text()).contains(login);
        b.driver().findElement(By.cssSelector(".member-row[data-login='" + login + "'] button.remove")).click();
        b.await(By.id("confirm-remove-yes")).click();
        b.waitUntil(d -> d.findElements(By.cssSelector(".member-row[data-login='" + login + "']")).isEmpty());
        assertThat(api.get("/api/projects/" + key + "/members").text()).doesNotContain(login);
        assertNothingRan(b);
    }

    @Test
    void aViewerSeesNoControlsAndANonMemberSeesNotFound() {
        String key = api.newProject("viewed");
        UUID session = api.newSession(key);
        String secret = api.newProject("secret");
        String login = unique("vic");
        api.createUser(login, "vic-password-123", false);
        assertThat(api.put("/api/projects/" + key + "/members/" + login, "{\"role\":\"viewer\"}").status())
            .isEqualTo(201);
        Browser b = other(login, "vic-password-123");
        b.go("/");
        b.await(By.cssSelector("a.project-link[href='/p/" + key + "']"));
        assertThat(b.driver().findElements(By.cssSelector("a.project-link[href='/p/" + secret + "']"))).isEmpty();
        b.go("/p/" + key);
        row(b, session);
        assertThat(b.driver().findElements(By.id("new-session"))).isEmpty();
        assertThat(b.driver().findElements(By.id("project-settings"))).isEmpty();
        assertThat(b.driver().findElements(By.cssSelector("button.end"))).isEmpty();
        assertThat(b.driver().findElement(By.id("nav-users")).isDisplayed()).isFalse();
        b.go("/p/" + key + "/settings");
        assertThat(b.await(By.id("settings-forbidden")).getText()).contains("Only project admins");
        assertThat(b.driver().findElements(By.id("project-form"))).isEmpty();

        b.go("/p/" + secret);
        b.waitUntil(d -> d.findElement(By.tagName("h1")).getText().equals("Not found"));
        String notMember = b.driver().findElement(By.id("main")).getText();
        b.go("/p/no-such-" + secret);
        b.waitUntil(d -> d.findElement(By.tagName("h1")).getText().equals("Not found"));
        // The same answer, but for the key the user typed.
        assertThat(b.driver().findElement(By.id("main")).getText().replace("no-such-" + secret, "KEY"))
            .isEqualTo(notMember.replace(secret, "KEY"));
    }

    @Test
    void confirmationDialogsCloseWhenTheUserLeavesTheView() {
        String key = api.newProject("leave");
        UUID session = api.newSession(key);
        String login = unique("rea");
        api.createUser(login, "rea-password-123", false);
        Browser b = admin();
        b.go("/");
        b.await(By.cssSelector("a.project-link[href='/p/" + key + "']")).click();
        row(b, session).findElement(By.cssSelector("button.end")).click();
        b.await(By.id("confirm-end-yes"));
        b.driver().navigate().back();
        b.await(By.id("projects"));
        b.waitUntil(d -> d.findElements(By.id("confirm-end")).isEmpty());
        assertThat(api.get("/api/sessions/" + session).json().get("state").asString()).isEqualTo("IDLE");

        b.go("/users");
        b.await(By.cssSelector(".user-row[data-login='" + login + "'] button.reset-password")).click();
        b.await(By.id("reset-password-value")).sendKeys("a-new-password-123");
        b.script("document.querySelector('#nav a[href=\"/tokens\"]').click()");
        b.await(By.id("new-token"));
        b.waitUntil(d -> d.findElements(By.id("reset-password")).isEmpty());
        assertThat(api.as(login, "rea-password-123").get("/api/me").status()).isEqualTo(200);
        assertNothingRan(b);
    }

    @Test
    void aMemberStartsSessionsButCannotEndThemAndLosingAccessIsSaidOnce() {
        String key = api.newProject("member");
        UUID session = api.newSession(key);
        String login = unique("mia");
        api.createUser(login, "mia-password-123", false);
        api.put("/api/projects/" + key + "/members/" + login, "{\"role\":\"member\"}");
        Browser b = other(login, "mia-password-123");
        b.go("/p/" + key);
        row(b, session);
        assertThat(b.await(By.id("new-session")).isDisplayed()).isTrue();
        assertThat(b.driver().findElements(By.id("project-settings"))).isEmpty();
        assertThat(b.driver().findElements(By.cssSelector("button.end"))).isEmpty();

        // Offline: the failure is said in words once (the status line is a live region),
        // not re-announced at every reconnect attempt of the list stream; back online,
        // the
        // list is live again by itself.
        b.waitUntil(d -> "yes".equals(d.findElement(By.id("sessions")).getDomAttribute("data-live")));
        b.script(
                """
                        window.__statusChanges = 0;
                        window.__polls = 0;
                        window.__failures = 0;
                        const realFetch = window.fetch;
                        window.fetch = (...args) => {
                          if (!String(args[0]).includes('/sessions')) return realFetch(...args);
                          window.__polls++;
                          return realFetch(...args).catch((e) => { window.__failures++; throw e; });
                        };
                        new MutationObserver(() => window.__statusChanges++)
                          .observe(document.getElementById('sessions-status'), { childList: true, characterData: true, subtree: true });
                        """);
        b.offline(true);
        try {
            b.waitUntil(Duration.ofSeconds(60),
                    d -> d.findElement(By.id("sessions-status")).getText().contains("Could not refresh the list"));
            b.waitUntil(Duration.ofSeconds(60), d -> (Long) b.script("return window.__failures") >= 2);
            assertThat(b.script("return window.__statusChanges")).isEqualTo(1L);
        }
        finally {
            b.offline(false);
        }
        b.waitUntil(Duration.ofSeconds(60), d -> d.findElement(By.id("sessions-status")).getText().isEmpty());
        UUID later = api.newSession(key);
        row(b, later);

        // Removed from the project: a stream is authorised when it opens, so the list
        // asks
        // again when the tab comes back into view; the stale list goes, the page says
        // why,
        // no endless retry.
        assertThat(api.delete("/api/projects/" + key + "/members/" + login).status()).isEqualTo(204);
        b.script("document.dispatchEvent(new Event('visibilitychange'))");
        assertThat(b.waitUntil(Duration.ofSeconds(30), d -> d.findElement(By.id("project-gone"))).getText())
            .isEqualTo("You no longer have access to this project.");
        assertThat(b.driver().findElements(By.id("sessions"))).isEmpty();
        b.driver().findElement(By.cssSelector("#main a[href='/']"));
        long polls = (Long) b.script("return window.__polls");
        b.script("document.dispatchEvent(new Event('visibilitychange'))");
        assertThat(b.script("return window.__polls")).isEqualTo(polls);
    }

    @Test
    void creatingAProjectWithAKeyThatIsTakenSaysSoInWords() {
        String mine = api.newProject("taken");
        String hidden = api.newProject("hidden");
        String login = unique("kai");
        api.createUser(login, "kai-password-123", false);
        api.put("/api/projects/" + mine + "/members/" + login, "{\"role\":\"member\"}");
        Browser b = other(login, "kai-password-123");
        b.go("/");
        type(b, "project-key", mine);
        type(b, "project-name", "Mine again");
        b.driver().findElement(By.cssSelector("#new-project button[type=submit]")).click();
        b.waitUntil(d -> d.findElement(By.id("new-project-status"))
            .getText()
            .contains("A project with this key exists (you are its member)."));
        type(b, "project-key", hidden);
        b.driver().findElement(By.cssSelector("#new-project button[type=submit]")).click();
        b.waitUntil(d -> d.findElement(By.id("new-project-status"))
            .getText()
            .equals("This key is not available: choose another."));
    }

    @Test
    void aServerAdminWhoRemovesTheirOwnAdminFlagLeavesTheUsersPage() {
        String login = unique("ada");
        api.createUser(login, "ada-password-123", true);
        Browser b = other(login, "ada-password-123");
        b.await(By.id("nav-users")).click();
        b.await(By.cssSelector(".user-row[data-login='" + login + "'] button.toggle-admin")).click();
        b.await(By.id("projects"));
        b.waitUntil(d -> !d.findElement(By.id("nav-users")).isDisplayed());
        assertThat(b.driver().getCurrentUrl()).isEqualTo(api.base() + "/");
    }

    @Test
    void aSlowStartDoesNotPullTheUserBackAndAFailedReloadDoesNotUndoASuccess() {
        String key = api.newProject("slow");
        Browser b = admin();
        b.go("/");
        b.await(By.cssSelector("a.project-link[href='/p/" + key + "']")).click();
        // The POST of "Start session" is held until the user has gone to another page.
        b.script(
                """
                        const realFetch = window.fetch;
                        let release;
                        window.__held = new Promise((resolve) => { release = resolve; });
                        window.__release = () => release();
                        window.fetch = (...args) => String(args[0]).endsWith('/sessions') && args[1] && args[1].method === 'POST'
                          ? window.__held.then(() => realFetch(...args)).then((r) => {
                              // Done once the app has read the answer too (its own read started first).
                              r.clone().text().then(() => setTimeout(() => { window.__done = true; }));
                              return r;
                            })
                          : realFetch(...args);
                        """);
        type(b, "session-title", "Slow one");
        b.driver().findElement(By.cssSelector("#new-session button[type=submit]")).click();
        b.driver().findElement(By.cssSelector("#nav a[href='/tokens']")).click();
        b.await(By.id("new-token"));
        b.script("window.__release()");
        b.waitUntil(d -> Boolean.TRUE.equals(b.script("return window.__done === true")));
        assertThat(api.get("/api/projects/" + key + "/sessions").text()).contains("Slow one");
        assertThat(b.driver().getCurrentUrl()).isEqualTo(api.base() + "/tokens");
        assertThat(b.driver().findElements(By.id("new-token"))).isNotEmpty();

        // The token is created, but the list cannot be read again: said as such, not as a
        // failure to create.
        b.script("""
                const realFetch = window.fetch;
                window.fetch = (...args) => String(args[0]) === '/api/tokens' && !(args[1] && args[1].method === 'POST')
                  ? Promise.reject(new TypeError('Failed to fetch')) : realFetch(...args);
                """);
        type(b, "token-name", "reload-fails");
        b.driver().findElement(By.cssSelector("#new-token button[type=submit]")).click();
        b.await(By.id("new-token-value"));
        b.waitUntil(d -> d.findElement(By.id("new-token-status"))
            .getText()
            .startsWith("Token created; the list could not be reloaded"));
    }

    @Test
    void namesFromOtherUsersAreTextInTheMembersAndUsersTables() {
        String key = api.newProject("names");
        String login = unique("hal");
        assertThat(api
            .post("/api/users", Api
                .json(Map.of("login", login, "displayName", HOSTILE, "password", "hal-password-123", "admin", false)))
            .status()).isEqualTo(201);
        api.put("/api/projects/" + key + "/members/" + login, "{\"role\":\"viewer\"}");
        Browser b = admin();
        b.go("/p/" + key + "/settings");
        assertThat(b.await(By.cssSelector(".member-row[data-login='" + login + "'] .display-name")).getText())
            .isEqualTo(HOSTILE);
        b.go("/users");
        assertThat(b.await(By.cssSelector(".user-row[data-login='" + login + "'] .display-name")).getText())
            .isEqualTo(HOSTILE);
        assertThat(b.driver()
            .findElement(By.cssSelector(".user-row[data-login='" + login + "'] button.reset-password"))
            .getAccessibleName()).startsWith("Reset password");
        assertNothingRan(b);
    }

    @Test
    void everyScreenIsAccessibleInLightAndDarkAndFitsA360PixelWindow() {
        String key = api.newProject("screens");
        UUID running = api.newSession(key);
        api.post("/api/projects/" + key + "/sessions", "{\"title\":\"Fix the login bug\"}");
        api.delete("/api/sessions/" + api.newSession(key));
        // A real run, so the RUNNING badge is checked in both colour schemes.
        assertThat(api.sendMessage(running, "sleep 300", null).status()).isEqualTo(202);
        org.awaitility.Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> "RUNNING".equals(api.get("/api/sessions/" + running).json().get("state").asString()));
        String login = unique("tia");
        api.createUser(login, "tia-password-123", false);
        api.put("/api/projects/" + key + "/members/" + login, "{\"role\":\"viewer\"}");
        Browser b = admin();
        b.go("/tokens");
        type(b, "token-name", "screens");
        b.driver().findElement(By.cssSelector("#new-token button[type=submit]")).click();
        b.await(By.id("new-token-value"));
        // Each screen with its rows, badges, role selects and buttons rendered, not
        // half-done.
        Map<String, String> screens = new java.util.LinkedHashMap<>();
        screens.put("/", "a.project-link[href='/p/" + key + "']");
        screens.put("/p/" + key, ".session-row[data-state='RUNNING'] .badge.state-RUNNING");
        screens.put("/p/" + key + "/settings", ".member-row[data-login='" + login + "'] select");
        screens.put("/tokens", ".token-row");
        screens.put("/users", ".user-row[data-login='" + login + "']");
        try {
            for (String mode : List.of("light", "dark")) {
                b.driver()
                    .executeCdpCommand("Emulation.setEmulatedMedia",
                            Map.of("features", List.of(Map.of("name", "prefers-color-scheme", "value", mode))));
                for (Map.Entry<String, String> screen : screens.entrySet()) {
                    b.go(screen.getKey());
                    b.await(By.cssSelector(screen.getValue()));
                    b.assertAccessible();
                    b.screenshot(SCREENSHOTS.resolve(mode + name(screen.getKey()) + ".png"));
                }
            }
        }
        finally {
            b.driver()
                .executeCdpCommand("Emulation.setEmulatedMedia",
                        Map.of("features", List.of(Map.of("name", "prefers-color-scheme", "value", "light"))));
        }
        Dimension desktop = b.driver().manage().window().getSize();
        b.driver().manage().window().setSize(new Dimension(360, 780));
        try {
            for (Map.Entry<String, String> screen : screens.entrySet()) {
                b.go(screen.getKey());
                b.await(By.cssSelector(screen.getValue()));
                assertThat(b.script("return document.documentElement.scrollWidth <= window.innerWidth"))
                    .as("no sideways scrolling at 360 px on " + screen.getKey())
                    .isEqualTo(true);
                b.screenshot(SCREENSHOTS.resolve("narrow" + name(screen.getKey()) + ".png"));
            }
        }
        finally {
            b.driver().manage().window().setSize(desktop);
        }
        api.interrupt(running);
        assertNothingRan(b);
    }

    static String name(String path) {
        return switch (path) {
            case "/" -> "-projects";
            case "/tokens" -> "-tokens";
            case "/users" -> "-users";
            default -> path.endsWith("/settings") ? "-settings" : "-project";
        };
    }

}
