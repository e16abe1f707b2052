package dev.collab.app;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import dev.collab.event.EventLog;
import dev.collab.support.Api;
import dev.collab.support.Browser;
import dev.collab.support.Browsers;
import dev.collab.support.IntegrationTest;
import dev.collab.support.SseClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 16 in a real Chromium against the real server: the live session list (another
 * user's new session and message show up without a reload, with unread counts that clear
 * once the session is read, and who is here), presence in the session view (another
 * user's open stream), the queue while the agent works (queued sends, cancel, move to
 * front, the queued runs starting one after another), desktop notifications while the tab
 * is hidden, and the busyPolicy setting. Other users act through the API, logged in for
 * real.
 * <p>
 * The runner timeout is the one of {@link SessionOutboxBrowserTest} (the same cached
 * server: no Spring context of its own): a {@code sleep 300} run lasts until it is
 * interrupted.
 */
@IntegrationTest
@TestPropertySource(properties = "collab.runner.timeout=60s")
class WorkingTogetherBrowserTest {

    static final Path SCREENSHOTS = Path.of("target/screenshots");

    static final Duration LIVE = Duration.ofSeconds(15);

    @RegisterExtension
    static final Browsers browsers = new Browsers();

    @Autowired
    Api api;

    @Autowired
    EventLog eventLog;

    Browser admin() {
        return browsers.loggedIn("admin", api.base(), Api.ADMIN_LOGIN, Api.ADMIN_PASSWORD);
    }

    /**
     * The second browser of the class (two tests log Ana in): off the last test's page
     * first (no stream of it asking anything), logged out, its console forgotten.
     */
    Browser member() {
        Browser b = browsers.get("member", api.base());
        b.driver().get("about:blank");
        b.driver().executeCdpCommand("Network.clearBrowserCookies", Map.of());
        b.consoleErrors();
        return b;
    }

    /** A user logged in through the API. */
    record User(String login, String password, Api api) {
    }

    /**
     * Ana, the other user of every test: created and logged in once for the class (a
     * password hash and a login each: CI time), made a member of each test's project.
     */
    private static @Nullable User ana;

    User ana(String project) {
        User user = ana;
        if (user == null) {
            String login = "ana-" + Long.toString(System.nanoTime(), 36);
            String password = "password-of-" + login;
            api.createUser(login, password, false);
            user = new User(login, password, api.as(login, password));
            ana = user;
        }
        assertThat(api.put("/api/projects/" + project + "/members/" + user.login(), "{\"role\":\"member\"}").status())
            .isIn(200, 201);
        return user;
    }

    /** A personal access token of the user, for an SSE client of theirs. */
    static String bearer(User user) {
        Api.Response created = user.api().post("/api/tokens", Api.json(Map.of("name", "sse")));
        assertThat(created.status()).isEqualTo(201);
        return "Bearer " + created.json().get("token").asString();
    }

    /** A new project; new projects queue (the default), else the policy is set. */
    String project(String prefix, String busyPolicy) {
        String key = api.newProject(prefix);
        if (!"queue".equals(busyPolicy)) {
            assertThat(api.put("/api/projects/" + key, Api.json(Map.of("name", prefix, "busyPolicy", busyPolicy)))
                .status()).isEqualTo(200);
        }
        return key;
    }

    static WebElement row(Browser b, UUID session) {
        return b.await(By.cssSelector(".session-row[data-id='" + session + "']"));
    }

    static String text(WebElement element) {
        return String.valueOf(element.getDomProperty("textContent"));
    }

    static void openSession(Browser b, String project, UUID session) {
        b.go("/p/" + project + "/s/" + session);
        b.await(By.id("timeline"));
        b.waitUntil(d -> "live".equals(d.findElement(By.id("connection")).getDomAttribute("data-state")));
    }

    @Test
    void theListIsLiveWithUnreadCountsAndWhoIsHere() {
        String project = project("live", "queue");
        UUID quiet = api.newSession(project);
        User ana = ana(project);
        Browser b = admin();
        b.go("/p/" + project);
        row(b, quiet);
        b.waitUntil(d -> "yes".equals(d.findElement(By.id("sessions")).getDomAttribute("data-live")));
        b.script("window.__samePage = true");

        // Another user starts a session and writes in it: it appears at the top without
        // a reload.
        UUID created = UUID.fromString(ana.api()
            .post("/api/projects/" + project + "/sessions", "{\"title\":\"Ana's session\"}")
            .json()
            .get("id")
            .asString());
        b.waitUntil(LIVE, d -> !d.findElements(By.cssSelector(".session-row[data-id='" + created + "']")).isEmpty());
        assertThat(ana.api().sendMessage(created, "hello from ana", null).status()).isEqualTo(202);
        awaitIdle(created);
        b.waitUntil(LIVE, d -> created.toString()
            .equals(d.findElements(By.cssSelector(".session-row")).get(0).getDomAttribute("data-id")));
        assertThat(b.script("return window.__samePage")).isEqualTo(true);

        // Ana watches the session (an SSE client of hers): the row says who is here.
        try (SseClient watching = SseClient.connect(api.uri("/api/sessions/" + created + "/events/stream"), null,
                bearer(ana))) {
            assertThat(watching.status()).isEqualTo(200);
            b.waitUntil(LIVE,
                    d -> text(row(b, created).findElement(By.cssSelector(".here"))).contains(ana.login() + " is here"));
            // Unread for this user: the message and the run's end.
            b.waitUntil(LIVE, d -> Integer.parseInt(row(b, created).getDomAttribute("data-unread")) >= 2);
            assertThat(row(b, created).findElement(By.cssSelector(".unread")).getText()).matches("\\d+ unread");

            // The session view shows her in the presence bar; reading the session to its
            // end clears the unread count.
            row(b, created).findElement(By.tagName("a")).click();
            b.await(By.id("timeline"));
            WebElement bar = b.await(By.id("presence"));
            b.waitUntil(LIVE,
                    d -> !bar.findElements(By.cssSelector(".watcher[data-login='" + ana.login() + "']")).isEmpty());
            b.waitUntil(LIVE, d -> api.get("/api/sessions/" + created).json().get("unread").asInt() == 0);
            b.assertAccessible();
        }
        // Gone when her stream closes.
        b.waitUntil(Duration.ofSeconds(30),
                d -> d.findElements(By.cssSelector("#presence .watcher[data-login='" + ana.login() + "']")).isEmpty());

        b.go("/p/" + project);
        b.waitUntil(LIVE, d -> "0".equals(row(b, created).getDomAttribute("data-unread")));
        assertThat(row(b, created).findElement(By.cssSelector(".unread")).getText()).isEmpty();
        assertThat(b.consoleErrors()).isEmpty();
    }

    @Test
    void sendingWhileTheAgentWorksQueuesAndTheQueueCanBeCancelledAndReordered() {
        String project = project("queue", "queue");
        UUID session = api.newSession(project);
        User ana = ana(project);
        assertThat(api.sendMessage(session, "sleep 300", null).status()).isEqualTo(202);
        Browser b = admin();
        openSession(b, project, session);
        b.waitUntil(LIVE, d -> "running".equals(d.findElement(By.id("run-status")).getDomAttribute("data-state")));
        assertThat(b.await(By.id("queue-note")).getText()).contains("queued");

        // The admin's own send is queued, and says where it is.
        WebElement message = b.await(By.id("message"));
        message.sendKeys("first queued by admin");
        b.driver().findElement(By.id("send")).click();
        b.waitUntil(LIVE, d -> d.findElement(By.id("send-status")).getText().startsWith("Queued — position 1"));
        // Two more from another member (through the API).
        assertThat(ana.api().sendMessage(session, "second from ana", null).status()).isEqualTo(202);
        assertThat(ana.api().sendMessage(session, "third from ana", null).status()).isEqualTo(202);
        WebElement panel = b.await(By.id("queue-panel"));
        b.waitUntil(LIVE, d -> panel.findElements(By.cssSelector(".queued-message")).size() == 3);
        assertThat(queueTexts(b)).containsExactly("first queued by admin", "second from ana", "third from ana");
        assertThat(b.driver().findElement(By.id("timeline")).getText()).contains("queued a message");
        b.assertAccessible();

        // Cancel the first; move the third to the front (an admin may do both).
        panel.findElements(By.cssSelector("button.cancel-queued")).get(0).click();
        b.waitUntil(LIVE, d -> queueTexts(b).equals(List.of("second from ana", "third from ana")));
        b.waitUntil(LIVE, d -> d.findElement(By.id("timeline")).getText().contains("A queued message was cancelled"));
        panel.findElements(By.cssSelector(".queued-message"))
            .get(1)
            .findElement(By.cssSelector("button.move-to-front"))
            .click();
        b.waitUntil(LIVE, d -> queueTexts(b).equals(List.of("third from ana", "second from ana")));
        b.waitUntil(LIVE, d -> d.findElement(By.id("timeline")).getText().contains("moved to the front"));
        assertThat(api.get("/api/sessions/" + session + "/queue").json().get("items").get(0).get("text").asString())
            .isEqualTo("third from ana");

        // The run ends: the queued messages run one after another, in the queue's order.
        assertThat(api.interrupt(session).status()).isIn(200, 202);
        b.waitUntil(Duration.ofSeconds(30),
                d -> d.findElements(By.cssSelector("#queue-panel .queued-message")).isEmpty());
        b.waitUntil(Duration.ofSeconds(30),
                d -> d.findElement(By.id("timeline")).getText().contains("you said: second from ana"));
        String timeline = b.driver().findElement(By.id("timeline")).getText();
        assertThat(timeline.indexOf("you said: third from ana")).isPositive()
            .isLessThan(timeline.indexOf("you said: second from ana"));
        assertThat(timeline).doesNotContain("you said: first queued by admin");
        b.waitUntil(LIVE, d -> "idle".equals(d.findElement(By.id("run-status")).getDomAttribute("data-state")));
        assertThat(b.consoleErrors()).isEmpty();
    }

    static List<String> queueTexts(Browser b) {
        return b.driver()
            .findElements(By.cssSelector("#queue .queued-message .text"))
            .stream()
            .map(WebElement::getText)
            .toList();
    }

    @Test
    void aMemberCancelsOnlyTheirOwnQueuedMessagesAndRejectModeStaysBusy() {
        String project = project("mine", "queue");
        UUID session = api.newSession(project);
        User ana = ana(project);
        assertThat(api.sendMessage(session, "sleep 300", null).status()).isEqualTo(202);
        assertThat(api.sendMessage(session, "the admin's", null).status()).isEqualTo(202);
        assertThat(ana.api().sendMessage(session, "ana's", null).status()).isEqualTo(202);
        Browser b = member().login(ana.login(), ana.password());
        openSession(b, project, session);
        b.waitUntil(LIVE, d -> d.findElements(By.cssSelector("#queue .queued-message")).size() == 2);
        List<WebElement> items = b.driver().findElements(By.cssSelector("#queue .queued-message"));
        assertThat(items.get(0).findElements(By.cssSelector("button"))).isEmpty();
        assertThat(items.get(1).findElements(By.cssSelector("button.cancel-queued"))).hasSize(1);
        assertThat(items.get(1).findElements(By.cssSelector("button.move-to-front"))).isEmpty();
        api.interrupt(session);

        // Reject mode: a send while the agent works is refused as before.
        String strict = project("strict", "reject");
        UUID busy = api.newSession(strict);
        ana(strict);
        assertThat(api.sendMessage(busy, "sleep 300", null).status()).isEqualTo(202);
        openSession(b, strict, busy);
        b.waitUntil(LIVE, d -> "running".equals(d.findElement(By.id("run-status")).getDomAttribute("data-state")));
        assertThat(b.driver().findElement(By.id("queue-note")).isDisplayed()).isFalse();
        b.await(By.id("message")).sendKeys("refused");
        b.driver().findElement(By.id("send")).click();
        b.waitUntil(LIVE, d -> d.findElement(By.id("busy-notice")).isDisplayed());
        api.interrupt(busy);
        // The refused send's 409 is logged by the browser; nothing else is.
        assertThat(b.consoleErrors()).allMatch(e -> e.contains("/messages") && e.contains("409"));
    }

    /**
     * The OS notification itself is outside the page: a test-only spy of
     * {@code window.Notification} (installed by CDP before the app's scripts) records
     * what the app shows, and permission is granted for real (CDP
     * Browser.grantPermissions). The same script makes the page's visibility
     * controllable: a headless tab stays visible. The member's browser of the class is
     * used (no Chromium of its own: CI time); the script and the permission go after.
     * <p>
     * Last, the two minutes without input that make a visible tab idle: the page's
     * {@code data-idle-after} shortens them (the app reads it at each input) rather than
     * the test waiting them out.
     */
    @Test
    void notificationsWhileTheTabIsHiddenForTheUsersRunsAndApprovalsTheyMayDecide() {
        String project = project("notify", "queue");
        UUID session = api.newSession(project);
        User ana = ana(project);
        Browser b = member();
        Object spyScript = null;
        try {
            b.driver()
                .executeCdpCommand("Browser.grantPermissions",
                        Map.of("origin", api.base(), "permissions", List.of("notifications")));
            spyScript = b.driver()
                .executeCdpCommand("Page.addScriptToEvaluateOnNewDocument",
                        Map.of("source",
                                """
                                        (() => {
                                          const Real = window.Notification;
                                          let hidden = false;
                                          window.__notes = [];
                                          window.__setHidden = (value) => {
                                            hidden = value;
                                            document.dispatchEvent(new Event('visibilitychange'));
                                          };
                                          Object.defineProperty(Document.prototype, 'visibilityState',
                                            { configurable: true, get() { return hidden ? 'hidden' : 'visible'; } });
                                          Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get() { return hidden; } });
                                          class Spy {
                                            constructor(title, options) {
                                              this.title = title;
                                              this.options = options || {};
                                              window.__notes.push({ title, body: this.options.body || '' });
                                              window.__lastNote = this;
                                            }
                                            close() { this.closed = true; }
                                            static get permission() { return Real.permission; }
                                            static requestPermission() { return Real.requestPermission(); }
                                          }
                                          window.Notification = Spy;
                                        })();
                                        """))
                .get("identifier");
            b.login(ana.login(), ana.password());
            openSession(b, project, session);
            WebElement toggle = b.await(By.id("notify-toggle"));
            assertThat(toggle.getDomAttribute("aria-pressed")).isEqualTo("false");
            toggle.click();
            b.waitUntil(d -> "true".equals(d.findElement(By.id("notify-toggle")).getDomAttribute("aria-pressed")));
            // Remembered in this browser.
            openSession(b, project, session);
            assertThat(b.await(By.id("notify-toggle")).getDomAttribute("aria-pressed")).isEqualTo("true");

            b.script("window.__setHidden(true)");
            // A hidden tab tells the others its user is idle there.
            awaitPresence(session, ana, "idle");
            // Someone else's run: no notification. Then Ana's own run, and her failing
            // one.
            assertThat(api.sendMessage(session, "the admin's run", null).status()).isEqualTo(202);
            awaitIdle(session);
            assertThat(ana.api().sendMessage(session, "ana's run", null).status()).isEqualTo(202);
            b.waitUntil(LIVE, d -> ((Number) b.script("return window.__notes.length")).intValue() >= 1);
            awaitIdle(session);
            assertThat(ana.api().sendMessage(session, "fail now", null).status()).isEqualTo(202);
            b.waitUntil(LIVE, d -> ((Number) b.script("return window.__notes.length")).intValue() >= 2);
            awaitIdle(session);

            // An approval she may decide (members approve in this project).
            String runId = UUID.randomUUID().toString();
            eventLog.append(session, "run.started", Map.of("runId", runId, "messageId", "m", "by", Api.ADMIN_LOGIN));
            eventLog.append(session, "approval.requested", Map.of("approvalId", UUID.randomUUID().toString(), "runId",
                    runId, "tool", "Bash", "input", Map.of("command", "ls")));
            b.waitUntil(LIVE, d -> ((Number) b.script("return window.__notes.length")).intValue() >= 3);
            eventLog.append(session, "run.finished", Map.of("runId", runId, "status", "succeeded", "exitCode", 0));

            @SuppressWarnings("unchecked")
            List<Map<String, Object>> notes = (List<Map<String, Object>>) b.script("return window.__notes");
            assertThat(notes).hasSize(3);
            assertThat(notes.get(0).get("title").toString()).startsWith("Run finished");
            assertThat(notes.get(1).get("title").toString()).startsWith("Run failed");
            assertThat(notes.get(2).get("title").toString()).startsWith("Approval needed");
            assertThat(notes.get(2).get("body").toString()).contains("Bash");

            // Clicking one brings the tab and its session to the front.
            b.script("window.__lastNote.onclick()");
            assertThat(b.script("return window.__lastNote.closed")).isEqualTo(true);
            assertThat(b.driver().getCurrentUrl()).endsWith("/p/" + project + "/s/" + session);

            // A visible tab shows the events themselves: no notification.
            b.script("window.__setHidden(false)");
            awaitPresence(session, ana, "active");
            assertThat(ana.api().sendMessage(session, "seen run", null).status()).isEqualTo(202);
            b.waitUntil(LIVE, d -> d.findElement(By.id("timeline")).getText().contains("you said: seen run"));
            awaitIdle(session);
            assertThat(((Number) b.script("return window.__notes.length")).intValue()).isEqualTo(3);

            // No input for the idle delay (shortened from 2 minutes): idle for the others
            // and in her own presence bar; her next key press makes her active again.
            b.script("document.documentElement.dataset.idleAfter = '1000'");
            new Actions(b.driver()).sendKeys(Keys.SHIFT).perform();
            awaitPresence(session, ana, "idle");
            b.waitUntil(LIVE, d -> !d
                .findElements(By.cssSelector("#presence .watcher[data-login='" + ana.login() + "'][data-state='idle']"))
                .isEmpty());
            b.script("delete document.documentElement.dataset.idleAfter");
            new Actions(b.driver()).sendKeys(Keys.SHIFT).perform();
            awaitPresence(session, ana, "active");
            assertThat(b.consoleErrors()).isEmpty();
        }
        finally {
            if (spyScript != null) {
                b.driver()
                    .executeCdpCommand("Page.removeScriptToEvaluateOnNewDocument", Map.of("identifier", spyScript));
            }
            b.driver().executeCdpCommand("Browser.resetPermissions", Map.of());
            b.script("localStorage.removeItem('collab.notify')");
        }
    }

    /** {@code user}'s state in the session's presence as others get it (GET presence). */
    void awaitPresence(UUID session, User user, String state) {
        org.awaitility.Awaitility.await().atMost(LIVE).until(() -> {
            for (var watcher : api.get("/api/sessions/" + session + "/presence").json().get("watchers")) {
                if (user.login().equals(watcher.get("login").asString())) {
                    return state.equals(watcher.get("state").asString());
                }
            }
            return false;
        });
    }

    void awaitIdle(UUID session) {
        org.awaitility.Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> "IDLE".equals(api.get("/api/sessions/" + session).json().get("state").asString()));
    }

    /**
     * The list's first page comes from the stream's snapshot (no GET list on open); when
     * the stream cannot be had (blocked here, as a proxy might), the GET list shows it.
     */
    @Test
    void withoutItsStreamTheListStillShowsItsFirstPage() {
        String project = project("nostream", "queue");
        UUID session = api.newSession(project);
        Browser b = admin();
        b.driver().executeCdpCommand("Network.enable", Map.of());
        b.driver().executeCdpCommand("Network.setBlockedURLs", Map.of("urls", List.of("*/sessions/stream*")));
        try {
            b.go("/p/" + project);
            row(b, session);
            b.waitUntil(LIVE, d -> d.findElement(By.id("sessions-status")).getText().contains("Could not refresh"));
            assertThat(b.driver().findElement(By.id("sessions")).getDomAttribute("data-live")).isNull();
        }
        finally {
            b.driver().executeCdpCommand("Network.setBlockedURLs", Map.of("urls", List.of()));
            b.driver().executeCdpCommand("Network.disable", Map.of());
            b.go("/");
            // The blocked stream's attempts, logged by the browser.
            assertThat(b.consoleErrors()).allMatch(e -> e.contains("sessions/stream"));
        }
    }

    @Test
    void theBusyPolicyIsAProjectSetting() {
        String project = project("policy", "queue");
        Browser b = admin();
        b.go("/p/" + project + "/settings");
        Select policy = new Select(b.await(By.id("project-busy-policy")));
        assertThat(policy.getFirstSelectedOption().getDomAttribute("value")).isEqualTo("queue");
        policy.selectByValue("reject");
        b.driver().findElement(By.cssSelector("#project-form button[type=submit]")).click();
        b.waitUntil(d -> d.findElement(By.id("project-status")).getText().equals("Saved."));
        assertThat(api.get("/api/projects/" + project).json().get("busyPolicy").asString()).isEqualTo("reject");
    }

    @Test
    void theNewPartsAreAccessibleInLightAndDarkAndFitA360PixelWindow() {
        String project = project("screens", "queue");
        UUID session = api.newSession(project);
        User ana = ana(project);
        assertThat(api.sendMessage(session, "sleep 300", null).status()).isEqualTo(202);
        assertThat(ana.api().sendMessage(session, "waiting in the queue", null).status()).isEqualTo(202);
        UUID other = api.newSession(project);
        assertThat(ana.api().sendMessage(other, "unread for the admin", null).status()).isEqualTo(202);
        Browser b = admin();
        try (SseClient watching = SseClient.connect(api.uri("/api/sessions/" + session + "/events/stream"), null,
                bearer(ana))) {
            // Ana watches the session: the list row shows her initials, the view her
            // name.
            assertThat(watching.status()).isEqualTo(200);
            Map<String, String> screens = new java.util.LinkedHashMap<>();
            screens.put("/p/" + project, ".session-row[data-id='" + session + "'] .here .avatar");
            screens.put("/p/" + project + "/s/" + session, "#queue .queued-message");
            for (String mode : List.of("light", "dark")) {
                b.driver()
                    .executeCdpCommand("Emulation.setEmulatedMedia",
                            Map.of("features", List.of(Map.of("name", "prefers-color-scheme", "value", mode))));
                for (Map.Entry<String, String> screen : screens.entrySet()) {
                    b.go(screen.getKey());
                    b.waitUntil(LIVE, d -> !d.findElements(By.cssSelector(screen.getValue())).isEmpty());
                    b.assertAccessible();
                    b.screenshot(SCREENSHOTS
                        .resolve(mode + "-issue16-" + (screen.getKey().contains("/s/") ? "session" : "list") + ".png"));
                }
            }
            Dimension desktop = b.driver().manage().window().getSize();
            b.driver().manage().window().setSize(new Dimension(360, 780));
            try {
                for (Map.Entry<String, String> screen : screens.entrySet()) {
                    b.go(screen.getKey());
                    b.waitUntil(LIVE, d -> !d.findElements(By.cssSelector(screen.getValue())).isEmpty());
                    assertThat(b.script("return document.documentElement.scrollWidth <= window.innerWidth"))
                        .as("no sideways scrolling at 360 px on " + screen.getKey())
                        .isEqualTo(true);
                }
            }
            finally {
                b.driver().manage().window().setSize(desktop);
            }
        }
        finally {
            b.driver()
                .executeCdpCommand("Emulation.setEmulatedMedia",
                        Map.of("features", List.of(Map.of("name", "prefers-color-scheme", "value", "light"))));
            api.interrupt(session);
        }
    }

}
