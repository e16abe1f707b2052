package dev.collab.app;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.WindowType;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import dev.collab.support.Api;
import dev.collab.support.Browser;
import dev.collab.support.Browsers;
import dev.collab.support.IntegrationTest;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The session view's outbox in a real Chromium, where it can go wrong: a logout with
 * unsent messages and the next user on the same browser, two tabs sending at once, items
 * left over for hours, retries that must reuse their Idempotency-Key, a reload while the
 * send is still blocked, and a 409 that arrives after the stream said the run had
 * finished.
 */
@IntegrationTest
@TestPropertySource(properties = "collab.runner.timeout=60s")
class SessionOutboxBrowserTest {

    /**
     * Makes this page's POSTs to …/messages fail like a lost connection (page-level, no
     * CDP).
     */
    static final String BLOCK_SENDS = """
            const real = window.fetch;
            window.__blockSends = true;
            window.fetch = (url, init) => window.__blockSends && String(url).endsWith('/messages')
              ? Promise.reject(new TypeError('blocked by the test')) : real(url, init);
            """;

    static final String OUTBOX_KEYS = """
            const out = [];
            for (let i = 0; i < localStorage.length; i++) {
              if (localStorage.key(i).startsWith('collab.outbox.')) out.push(localStorage.key(i));
            }
            return out.sort();
            """;

    @RegisterExtension
    static final Browsers browsers = new Browsers();

    @Autowired
    Api api;

    /**
     * The class's browser, logged in as a new user with {@code role} in {@code project}.
     */
    Browser as(String project, String role) {
        String login = role + "-" + Long.toString(System.nanoTime(), 36);
        api.createUser(login, "password-of-" + login, false);
        assertThat(api.put("/api/projects/" + project + "/members/" + login, "{\"role\":\"" + role + "\"}").status())
            .isIn(200, 201);
        return browsers.withoutCookies("browser", api.base()).login(login, "password-of-" + login);
    }

    static void open(Browser b, String project, UUID session) {
        b.go("/p/" + project + "/s/" + session);
        b.await(By.id("timeline"));
        b.waitUntil(d -> "live".equals(d.findElement(By.id("connection")).getAttribute("data-state")));
    }

    static void type(Browser b, String text) {
        WebElement box = b.await(By.id("message"));
        box.sendKeys(text);
        box.sendKeys(Keys.ENTER);
    }

    static void blockWithCdp(Browser b, boolean block) {
        b.driver().executeCdpCommand("Network.enable", Map.of());
        b.driver()
            .executeCdpCommand("Network.setBlockedURLs", Map.of("urls", block ? List.of("*/messages") : List.of()));
    }

    @SuppressWarnings("unchecked")
    static List<String> outboxKeys(Browser b) {
        return (List<String>) b.script(OUTBOX_KEYS);
    }

    List<String> messages(UUID session) {
        JsonNode events = api.get("/api/sessions/" + session + "/events?after=0&limit=1000").json().get("items");
        return events.valueStream()
            .filter(e -> e.get("type").asString().equals("message"))
            .map(e -> e.get("data").get("author").asString() + ":" + e.get("data").get("text").asString())
            .toList();
    }

    boolean idle(UUID session) {
        return "IDLE".equals(api.get("/api/sessions/" + session).json().get("state").asString());
    }

    @Test
    void aLogoutLeavesNoUnsentMessageForTheNextUser() {
        String project = api.newProject("ob1");
        UUID session = api.newSession(project);
        Browser b = as(project, "member");
        open(b, project, session);
        b.script(BLOCK_SENDS);
        type(b, "first user's private text");
        b.waitUntil(d -> d.findElement(By.cssSelector(".outbox-item[data-state=failed]")));
        assertThat(outboxKeys(b)).hasSize(1);
        // Leaving the page says that the message is not sent yet.
        b.driver().findElement(By.cssSelector(".breadcrumbs a")).click();
        b.waitUntil(d -> d.findElement(By.id("notice")).getText().contains("1 message to"));
        assertThat(b.driver().findElement(By.id("notice")).getText()).contains("not sent yet");

        b.driver().findElement(By.id("logout")).click();
        b.await(By.id("login"));
        assertThat(outboxKeys(b)).isEmpty();

        Browser next = as(project, "member");
        open(next, project, session);
        type(next, "second user's text");
        next.waitUntil(d -> d.findElements(By.cssSelector(".event-message")).size() == 1);
        next.waitUntil(Duration.ofSeconds(30), d -> idle(session));
        assertThat(next.driver().findElements(By.cssSelector(".outbox-item"))).isEmpty();
        assertThat(messages(session)).singleElement().asString().endsWith(":second user's text");
    }

    @Test
    void aStoredItemOfAnotherUserIsNeitherShownNorSent() {
        String project = api.newProject("ob2");
        UUID session = api.newSession(project);
        Browser b = as(project, "member");
        b.script("localStorage.setItem(arguments[0], arguments[1])", "collab.outbox.someone-else." + session + ".k1",
                "{\"key\":\"k1\",\"text\":\"not yours\",\"createdAt\":" + System.currentTimeMillis()
                        + ",\"owner\":\"someone-else\",\"auto\":true}");
        open(b, project, session);
        type(b, "mine");
        b.waitUntil(d -> d.findElements(By.cssSelector(".event-message")).size() == 1);
        b.waitUntil(Duration.ofSeconds(30), d -> idle(session));
        assertThat(b.driver().findElements(By.cssSelector(".outbox-item"))).isEmpty();
        assertThat(messages(session)).singleElement().asString().endsWith(":mine");
        b.script("localStorage.clear()");
    }

    @Test
    void twoTabsKeepEachOthersItemsAndTheSurvivingTabDeliversThem() {
        String project = api.newProject("ob3", "reject");
        UUID session = api.newSession(project);
        Browser b = as(project, "member");
        String tabB = b.driver().getWindowHandle();
        open(b, project, session);
        // Tab B takes over tab A's item only when the test says so (below), not after a
        // delay
        // that a slow machine could reach before "from tab B" is typed.
        b.script("document.documentElement.dataset.outboxForeignDelay = '3600000'");
        b.driver().switchTo().newWindow(WindowType.TAB);
        String tabA = b.driver().getWindowHandle();
        open(b, project, session);
        b.script(BLOCK_SENDS);
        type(b, "from tab A");
        b.waitUntil(d -> d.findElement(By.cssSelector(".outbox-item[data-state=failed]")));

        // Tab B sends successfully (the old outbox then removed the whole list, tab A's
        // item too).
        b.driver().switchTo().window(tabB);
        b.waitUntil(d -> d.findElements(By.cssSelector(".outbox-item")).size() == 1);
        assertThat(b.driver().findElement(By.cssSelector(".outbox-item .text")).getText()).isEqualTo("from tab A");
        type(b, "from tab B");
        b.waitUntil(d -> d.findElements(By.cssSelector(".event-message")).size() == 1);
        assertThat(outboxKeys(b)).hasSize(1);

        // Tab A goes away without delivering: tab B sends its item (same key, once).
        b.driver().switchTo().window(tabA);
        b.driver().close();
        b.driver().switchTo().window(tabB);
        // What the stream's reconnect or the browser's 'online' does: send what is
        // pending.
        b.script("window.dispatchEvent(new Event('online'))");
        b.waitUntil(Duration.ofSeconds(90), d -> {
            for (WebElement retry : d.findElements(By.cssSelector(".outbox-item[data-state=busy] button.retry"))) {
                if (idle(session)) {
                    retry.click();
                }
            }
            return messages(session).stream().anyMatch(m -> m.endsWith(":from tab A"));
        });
        b.waitUntil(Duration.ofSeconds(60), d -> {
            for (WebElement retry : d.findElements(By.cssSelector(".outbox-item[data-state=busy] button.retry"))) {
                if (idle(session)) {
                    retry.click();
                }
            }
            return d.findElements(By.cssSelector(".outbox-item")).isEmpty();
        });
        assertThat(outboxKeys(b)).isEmpty();
        assertThat(messages(session)).hasSize(2);
        b.script("delete document.documentElement.dataset.outboxForeignDelay");
    }

    @Test
    void aPendingItemIsNeverSentAsAnotherUserWhoLoggedInInAnotherTab() {
        String project = api.newProject("ob6");
        UUID session = api.newSession(project);
        Browser b = as(project, "member");
        String loginA = (String) b.script("return fetch('/api/me').then(r => r.json()).then(me => me.login)");
        String tab1 = b.driver().getWindowHandle();
        open(b, project, session);
        b.script(BLOCK_SENDS);
        type(b, "A private text");
        b.waitUntil(d -> d.findElement(By.cssSelector(".outbox-item[data-state=failed]")));

        // A's login is gone (expired: no Logout click); bob logs in in another tab.
        b.driver().manage().deleteAllCookies();
        String bob = "bob-" + Long.toString(System.nanoTime(), 36);
        api.createUser(bob, "password-of-" + bob, false);
        assertThat(api.put("/api/projects/" + project + "/members/" + bob, "{\"role\":\"member\"}").status()).isIn(200,
                201);
        b.driver().switchTo().newWindow(WindowType.TAB);
        String tab2 = b.driver().getWindowHandle();
        b.login(bob, "password-of-" + bob);

        // Tab 1 could send again now (with bob's cookie): it does not, and it leaves A's
        // view.
        b.driver().switchTo().window(tab1);
        b.script("window.__blockSends = false; window.dispatchEvent(new Event('online'))");
        b.await(By.id("login"));
        assertThat(messages(session)).isEmpty();
        assertThat(outboxKeys(b)).hasSize(1);

        // The item is A's: it is delivered once A is back, as A.
        b.login(loginA, "password-of-" + loginA);
        open(b, project, session);
        b.waitUntil(Duration.ofSeconds(30), d -> messages(session).size() == 1);
        assertThat(messages(session)).singleElement().isEqualTo(loginA + ":A private text");
        b.waitUntil(d -> d.findElements(By.cssSelector(".outbox-item")).isEmpty());
        b.waitUntil(Duration.ofSeconds(30), d -> idle(session));
        b.driver().switchTo().window(tab2);
        b.driver().close();
        b.driver().switchTo().window(tab1);
    }

    @Test
    void anItemStoppedInItsTabIsNotSentByAnotherTab() {
        String project = api.newProject("ob7", "reject");
        UUID session = api.newSession(project);
        Browser b = as(project, "member");
        String tabB = b.driver().getWindowHandle();
        open(b, project, session);
        // Tab B's takeover would come after the run (6 s > sleep 2): it must not come at
        // all.
        b.script("document.documentElement.dataset.outboxForeignDelay = '6000'");
        b.driver().switchTo().newWindow(WindowType.TAB);
        String tabA = b.driver().getWindowHandle();
        open(b, project, session);
        type(b, "sleep 2");
        b.await(By.cssSelector(".run[data-status=running]"));
        type(b, "second");
        WebElement busy = b.await(By.cssSelector(".outbox-item[data-state=busy]"));
        assertThat(busy.getText()).contains("second", "busy");

        // Tab B shows the item as stopped (no "being sent from another tab"), and never
        // sends it.
        b.driver().switchTo().window(tabB);
        b.waitUntil(d -> {
            List<WebElement> rows = d.findElements(By.cssSelector(".outbox-item"));
            return rows.size() == 1 && rows.get(0).getText().contains("Not sent")
                    && !rows.get(0).getText().contains("another tab");
        });
        b.waitUntil(Duration.ofSeconds(30),
                d -> d.findElements(By.cssSelector(".run[data-status=succeeded]")).size() == 1);
        b.script("window.dispatchEvent(new Event('online'))");
        assertThat(b.driver().findElements(By.cssSelector(".outbox-item"))).hasSize(1);
        assertThat(messages(session)).singleElement().asString().endsWith(":sleep 2");

        // The owner's tab discards it: gone in both.
        b.driver().switchTo().window(tabA);
        b.driver().findElement(By.cssSelector(".outbox-item button.discard")).click();
        b.waitUntil(d -> d.findElements(By.cssSelector(".outbox-item")).isEmpty());
        b.driver().close();
        b.driver().switchTo().window(tabB);
        b.waitUntil(d -> d.findElements(By.cssSelector(".outbox-item")).isEmpty());
        assertThat(messages(session)).hasSize(1);
        b.script("delete document.documentElement.dataset.outboxForeignDelay");
    }

    @Test
    void sendNowChecksTheAgeWhenClicked() {
        String project = api.newProject("ob8");
        UUID session = api.newSession(project);
        Browser b = as(project, "member");
        String owner = (String) b.script("return fetch('/api/me').then(r => r.json()).then(me => me.id)");
        // 20 s short of the server's 24 h key retention (by the browser's clock).
        long createdAt = (Long) b.script("return Date.now()") - 24 * 3600_000L + 20_000L;
        b.script("localStorage.setItem(arguments[0], arguments[1])",
                "collab.outbox." + owner + "." + session + ".old-1",
                "{\"key\":\"old-1\",\"text\":\"almost a day old\",\"createdAt\":" + createdAt + ",\"owner\":\"" + owner
                        + "\",\"auto\":true}");
        open(b, project, session);
        WebElement held = b.await(By.cssSelector(".outbox-item[data-state=held]"));
        // The tab stays open until the key may be gone (the page's clock moved on by a
        // minute, instead of the test waiting for it); then the user clicks Send now.
        b.script("const realNow = Date.now; Date.now = () => realNow() + 60_000;");
        assertThat((Long) b.script("return Date.now()")).isGreaterThan(createdAt + 24 * 3600_000L);
        held.findElement(By.cssSelector("button.retry")).click();
        WebElement expired = b.await(By.cssSelector(".outbox-item[data-state=expired]"));
        assertThat(expired.getText()).contains("almost a day old", "Expired");
        assertThat(expired.findElement(By.cssSelector("button.retry")).isDisplayed()).isFalse();
        assertThat(messages(session)).isEmpty();
        expired.findElement(By.cssSelector("button.discard")).click();
        b.waitUntil(d -> d.findElements(By.cssSelector(".outbox-item")).isEmpty());
    }

    @Test
    void oldItemsAreNeverSentByThemselves() {
        String project = api.newProject("ob4");
        UUID session = api.newSession(project);
        Browser b = as(project, "member");
        String owner = (String) b.script("return fetch('/api/me').then(r => r.json()).then(me => me.id)");
        long now = System.currentTimeMillis();
        String prefix = "collab.outbox." + owner + "." + session + ".";
        b.script("localStorage.setItem(arguments[0], arguments[1])", prefix + "held-1",
                "{\"key\":\"held-1\",\"text\":\"two hours old\",\"createdAt\":" + (now - 2 * 3600_000L)
                        + ",\"owner\":\"" + owner + "\",\"auto\":true}");
        b.script("localStorage.setItem(arguments[0], arguments[1])", prefix + "expired-1",
                "{\"key\":\"expired-1\",\"text\":\"a day old\",\"createdAt\":" + (now - 25 * 3600_000L)
                        + ",\"owner\":\"" + owner + "\",\"auto\":true}");
        open(b, project, session);
        WebElement held = b.await(By.cssSelector(".outbox-item[data-state=held]"));
        assertThat(held.getText()).contains("two hours old", "Not sent (written");
        assertThat(held.findElement(By.cssSelector("button.retry")).getText()).isEqualTo("Send now");
        WebElement expired = b.await(By.cssSelector(".outbox-item[data-state=expired]"));
        assertThat(expired.getText()).contains("a day old", "Expired — not sent", "Check the timeline",
                "copy your text");
        assertThat(expired.findElements(By.cssSelector("button.retry")).get(0).isDisplayed()).isFalse();

        // A fresh send goes through; the old ones did not go with it.
        type(b, "fresh");
        b.waitUntil(d -> d.findElements(By.cssSelector(".run[data-status=succeeded]")).size() == 1);
        b.waitUntil(Duration.ofSeconds(30), d -> idle(session));
        assertThat(messages(session)).singleElement().asString().endsWith(":fresh");

        held.findElement(By.cssSelector("button.retry")).click();
        b.waitUntil(d -> messages(session).size() == 2);
        assertThat(messages(session).get(1)).endsWith(":two hours old");
        b.waitUntil(d -> d.findElements(By.cssSelector(".outbox-item[data-state=held]")).isEmpty());
        expired.findElement(By.cssSelector("button.discard")).click();
        b.waitUntil(d -> d.findElements(By.cssSelector(".outbox-item")).isEmpty());
        assertThat(outboxKeys(b)).isEmpty();
        assertThat(messages(session)).hasSize(2);
    }

    @Test
    void aRetryAfterALostAnswerReusesTheKeyAndDeliversOnce() {
        String project = api.newProject("ob5");
        UUID session = api.newSession(project);
        Browser b = as(project, "member");
        open(b, project, session);
        // The first POST reaches the server, but its answer is lost; later ones go
        // through.
        b.script("""
                const real = window.fetch;
                window.__keys = [];
                window.fetch = async (url, init) => {
                  if (!String(url).endsWith('/messages')) return real(url, init);
                  window.__keys.push(init.headers['Idempotency-Key']);
                  const response = await real(url, init);
                  if (window.__keys.length === 1) throw new TypeError('answer lost');
                  window.__replayed = response.headers.get('Idempotent-Replayed');
                  return response;
                };
                """);
        type(b, "answer lost");
        b.waitUntil(d -> d.findElements(By.cssSelector(".outbox-item")).isEmpty());
        @SuppressWarnings("unchecked")
        List<String> keys = (List<String>) b.script("return window.__keys");
        assertThat(keys).hasSizeGreaterThanOrEqualTo(2);
        assertThat(keys).containsOnly(keys.get(0));
        assertThat(b.script("return window.__replayed")).isEqualTo("true");
        b.waitUntil(Duration.ofSeconds(30), d -> idle(session));
        assertThat(messages(session)).singleElement().asString().endsWith(":answer lost");
    }

    @Test
    void anItemStaysAcrossAReloadWithItsKeyAndIsDeliveredOnce() {
        String project = api.newProject("ob6");
        UUID session = api.newSession(project);
        Browser b = as(project, "member");
        open(b, project, session);
        blockWithCdp(b, true);
        try {
            type(b, "kept across a reload");
            b.waitUntil(d -> d.findElement(By.cssSelector(".outbox-item[data-state=failed]")));
            List<String> before = outboxKeys(b);
            assertThat(before).hasSize(1);
            b.driver().navigate().refresh();
            b.await(By.id("timeline"));
            WebElement item = b.await(By.cssSelector(".outbox-item"));
            assertThat(item.getText()).contains("kept across a reload");
            assertThat(outboxKeys(b)).isEqualTo(before);
            assertThat(item.getAttribute("data-key"))
                .isEqualTo(before.get(0).substring(before.get(0).lastIndexOf('.') + 1));
        }
        finally {
            blockWithCdp(b, false);
        }
        b.waitUntil(Duration.ofSeconds(60), d -> d.findElements(By.cssSelector(".outbox-item")).isEmpty());
        b.waitUntil(Duration.ofSeconds(30), d -> idle(session));
        assertThat(messages(session)).singleElement().asString().endsWith(":kept across a reload");
    }

    @Test
    void aBusyAnswerOvertakenByTheStreamDoesNotLeaveTheRunShowing() {
        String project = api.newProject("ob7", "reject");
        UUID session = api.newSession(project);
        Browser b = as(project, "member");
        open(b, project, session);
        type(b, "sleep 2");
        b.waitUntil(d -> d.findElements(By.cssSelector(".run[data-status=running]")).size() == 1);
        // The 409 for the next send is held back until the page has seen the run finish.
        b.script("""
                const real = window.fetch;
                window.fetch = async (url, init) => {
                  const response = await real(url, init);
                  if (String(url).endsWith('/messages') && response.status === 409) {
                    await new Promise((resolve) => {
                      const check = () => document.querySelector('.run[data-status=succeeded]')
                        ? resolve() : setTimeout(check, 50);
                      check();
                    });
                  }
                  return response;
                };
                """);
        type(b, "too early");
        b.waitUntil(Duration.ofSeconds(30),
                d -> d.findElements(By.cssSelector(".outbox-item[data-state=failed]")).size() == 1);
        b.waitUntil(d -> "idle".equals(d.findElement(By.id("run-status")).getAttribute("data-state")));
        assertThat(b.driver().findElement(By.id("busy-notice")).isDisplayed()).isFalse();
        assertThat(b.driver().findElement(By.cssSelector(".outbox-item")).getText()).contains("just finished");
        b.driver().findElement(By.cssSelector(".outbox-item button.retry")).click();
        b.waitUntil(Duration.ofSeconds(30), d -> messages(session).size() == 2);
    }

}
