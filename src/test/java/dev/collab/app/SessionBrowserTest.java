package dev.collab.app;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import dev.collab.event.EventLog;
import dev.collab.support.Api;
import dev.collab.support.Browser;
import dev.collab.support.Browsers;
import dev.collab.support.IntegrationTest;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The session view (/p/{key}/s/{id}) in a real Chromium: sending with the keyboard, live
 * output, two users in step, busy and interrupt, failures, a viewer's read-only view,
 * gaps filled after a lost connection, offline sends delivered once, ANSI and hostile
 * content, ending a session, accessibility and a narrow screen. A small max-replay (gaps
 * on every reconnect that missed more than 20 events) and a long runner timeout (a "sleep
 * 30" run stays busy while the test clicks).
 */
@IntegrationTest
@TestPropertySource(properties = { "collab.stream.max-replay=20", "collab.runner.timeout=60s" })
class SessionBrowserTest {

    static final String XSS_IMG = "<img src=x onerror=window.__xss=1>";

    static final String XSS_SCRIPT = "<script>window.__xss=1</script>";

    static final String XSS_LINK = "javascript:alert(1)";

    static final String XSS_OSC8 = "\u001b]8;;javascript:alert(1)\u0007click\u001b]8;;\u0007";

    static final Path SCREENSHOTS = Path.of("target/screenshots");

    @RegisterExtension
    static final Browsers browsers = new Browsers();

    @Autowired
    Api api;

    @Autowired
    EventLog eventLog;

    Browser admin() {
        return browsers.loggedIn("admin", api.base(), Api.ADMIN_LOGIN, Api.ADMIN_PASSWORD);
    }

    /** A second browser, logged in as a new user with {@code role} in {@code project}. */
    Browser other(String project, String role) {
        String login = role + "-" + Long.toString(System.nanoTime(), 36);
        api.createUser(login, "password-of-" + login, false);
        assertThat(api.put("/api/projects/" + project + "/members/" + login, "{\"role\":\"" + role + "\"}").status())
            .isIn(200, 201);
        return browsers.withoutCookies("other", api.base()).login(login, "password-of-" + login);
    }

    static void open(Browser b, String project, UUID session) {
        b.go("/p/" + project + "/s/" + session);
        b.await(By.id("timeline"));
        awaitLive(b);
    }

    static void awaitLive(Browser b) {
        b.waitUntil(d -> "live".equals(d.findElement(By.id("connection")).getAttribute("data-state")));
    }

    static void type(Browser b, String text) {
        WebElement box = b.await(By.id("message"));
        box.sendKeys(text);
        box.sendKeys(Keys.ENTER);
    }

    /** Every seq the timeline shows, in document order (merged blocks expanded). */
    @SuppressWarnings("unchecked")
    static List<Long> renderedSeqs(Browser b) {
        return (List<Long>) b.script("""
                const out = [];
                for (const el of document.querySelectorAll('#timeline [data-seq], #timeline [data-finished-seq]')) {
                  if (el.classList.contains('run')) {
                    if (el.dataset.startedSeq) out.push(Number(el.dataset.startedSeq));
                    if (el.dataset.finishedSeq) out.push(Number(el.dataset.finishedSeq));
                    continue;
                  }
                  const first = Number(el.dataset.seq), last = Number(el.dataset.lastSeq || el.dataset.seq);
                  for (let s = first; s <= last; s++) out.push(s);
                }
                return out.sort((a, b) => a - b);
                """);
    }

    /** Top-level timeline items as "seq|kind|text" (the same for every viewer). */
    @SuppressWarnings("unchecked")
    static List<String> items(Browser b) {
        return (List<String>) b.script("""
                return [...document.querySelectorAll('#timeline > *')].map(el =>
                  el.dataset.seq + '|' + el.className + '|'
                  + (el.querySelector('.text, pre.output') || el).textContent.replace(/\\s+/g, ' ').trim());
                """);
    }

    long head(UUID session) {
        return api.get("/api/sessions/" + session).json().get("headSeq").asLong();
    }

    void awaitIdle(UUID session) {
        admin().waitUntil(Duration.ofSeconds(30),
                d -> "IDLE".equals(api.get("/api/sessions/" + session).json().get("state").asString()));
    }

    static List<Long> range(long from, long to) {
        List<Long> all = new ArrayList<>();
        for (long s = from; s <= to; s++) {
            all.add(s);
        }
        return all;
    }

    @Test
    void typingEnterSendsShiftEnterIsANewLineAndOutputStreamsLive() {
        String project = api.newProject("sv");
        UUID session = api.newSession(project);
        Browser b = admin();
        open(b, project, session);
        assertThat(b.driver().findElement(By.tagName("h1")).getText()).isEqualTo("Untitled session");
        assertThat(b.driver().findElement(By.id("session-state")).getAttribute("data-state")).isEqualTo("IDLE");

        type(b, "lines 3");
        b.waitUntil(d -> d.findElements(By.cssSelector(".event-message .text"))
            .stream()
            .anyMatch(e -> e.getText().equals("lines 3")));
        WebElement run = b.waitUntil(d -> d.findElement(By.cssSelector(".run[data-status=succeeded]")));
        assertThat(run.findElement(By.cssSelector("pre.output")).getText()).contains("line 1", "line 2", "line 3");
        assertThat(run.findElement(By.cssSelector(".run-banner")).getText()).startsWith("Succeeded");
        assertThat(b.driver().findElement(By.id("message")).getAttribute("value")).isEmpty();

        // Shift+Enter is a newline: nothing is sent until Enter.
        WebElement box = b.driver().findElement(By.id("message"));
        box.sendKeys("first");
        box.sendKeys(Keys.chord(Keys.SHIFT, Keys.ENTER));
        box.sendKeys("second");
        assertThat(box.getAttribute("value")).isEqualTo("first\nsecond");
        assertThat(b.driver().findElements(By.cssSelector(".event-message"))).hasSize(1);
        box.sendKeys(Keys.ENTER);
        b.waitUntil(d -> d.findElements(By.cssSelector(".run[data-status=succeeded]")).size() == 2);
        List<WebElement> messages = b.driver().findElements(By.cssSelector(".event-message .text"));
        assertThat(messages.get(1).getText()).isEqualTo("first\nsecond");
        assertThat(messages.get(1).findElement(By.xpath("../p/span[@class='author']")).getText())
            .isEqualTo(Api.ADMIN_LOGIN);

        b.screenshot(SCREENSHOTS.resolve("session-desktop-light.png"));
        b.driver()
            .executeCdpCommand("Emulation.setEmulatedMedia",
                    Map.of("features", List.of(Map.of("name", "prefers-color-scheme", "value", "dark"))));
        try {
            b.assertAccessible();
            b.screenshot(SCREENSHOTS.resolve("session-desktop-dark.png"));
        }
        finally {
            b.driver().executeCdpCommand("Emulation.setEmulatedMedia", Map.of("features", List.of()));
        }

        // Long output is collapsed behind a button that says how long it is.
        type(b, "lines 100");
        WebElement expand = b.waitUntil(d -> d.findElements(By.cssSelector(".run[data-status=succeeded]")).size() == 3
                ? d.findElements(By.cssSelector(".run")).get(2).findElement(By.cssSelector("button.expand-output"))
                : null);
        b.waitUntil(d -> expand.getText().equals("Show all 100 lines"));
        WebElement output = b.driver()
            .findElements(By.cssSelector(".run"))
            .get(2)
            .findElement(By.cssSelector("pre.output"));
        assertThat(output.getAttribute("class")).contains("collapsed");
        expand.click();
        assertThat(output.getAttribute("class")).doesNotContain("collapsed");
        assertThat(expand.getAttribute("aria-expanded")).isEqualTo("true");

        b.waitUntil(d -> "idle".equals(d.findElement(By.id("run-status")).getAttribute("data-state")));
        assertThat(renderedSeqs(b)).isEqualTo(range(1, head(session)));
        b.assertAccessible();
        assertThat(b.consoleErrors()).isEmpty();
    }

    @Test
    void twoUsersOnOneSessionSeeTheSameEventsInTheSameOrder() {
        String project = api.newProject("sv2");
        UUID session = api.newSession(project);
        Browser a = admin();
        Browser m = other(project, "member");
        open(a, project, session);
        open(m, project, session);
        type(a, "lines 4");
        m.waitUntil(d -> d.findElements(By.cssSelector(".run[data-status=succeeded]")).size() == 1);
        type(m, "lines 2");
        a.waitUntil(d -> d.findElements(By.cssSelector(".run[data-status=succeeded]")).size() == 2);
        m.waitUntil(d -> d.findElements(By.cssSelector(".run[data-status=succeeded]")).size() == 2);
        long head = head(session);
        a.waitUntil(d -> renderedSeqs(a).equals(range(1, head)));
        m.waitUntil(d -> renderedSeqs(m).equals(range(1, head)));
        assertThat(items(m)).isEqualTo(items(a));
        assertThat(items(a)).anyMatch(i -> i.endsWith("lines 2"));
        List<String> authors = m.driver()
            .findElements(By.cssSelector(".event-message .author"))
            .stream()
            .map(WebElement::getText)
            .toList();
        assertThat(authors).hasSize(2).first().isEqualTo(Api.ADMIN_LOGIN);
        assertThat(authors.get(1)).startsWith("member-");
        assertThat(m.consoleErrors()).isEmpty();
    }

    @Test
    void aBusySessionShowsTheRunningRunAndInterruptSaysByWhom() {
        String project = api.newProject("sv3", "reject");
        UUID session = api.newSession(project);
        Browser b = admin();
        open(b, project, session);
        type(b, "sleep 30");
        b.waitUntil(d -> d.findElement(By.cssSelector(".run[data-status=running] pre.output"))
            .getText()
            .contains("sleeping"));
        b.waitUntil(d -> d.findElement(By.id("run-status")).getText().startsWith("Agent running · "));
        assertThat(b.driver().findElement(By.id("run-status")).getAttribute("data-state")).isEqualTo("running");
        assertThat(b.driver().findElement(By.id("session-state")).getAttribute("data-state")).isEqualTo("RUNNING");

        type(b, "hello while busy");
        b.waitUntil(d -> d.findElement(By.cssSelector(".outbox-item[data-state=busy]")));
        WebElement notice = b.await(By.id("busy-notice"));
        assertThat(notice.getAttribute("role")).isEqualTo("alert");
        assertThat(notice.getText()).contains("busy", "started by " + Api.ADMIN_LOGIN);
        b.driver().findElement(By.id("busy-interrupt")).click();
        WebElement run = b.waitUntil(d -> d.findElement(By.cssSelector(".run[data-status=interrupted]")));
        b.waitUntil(d -> run.findElement(By.cssSelector(".run-banner")).getText().contains("by " + Api.ADMIN_LOGIN));
        b.waitUntil(d -> !d.findElement(By.id("busy-notice")).isDisplayed());
        assertThat(b.driver().findElements(By.cssSelector(".event-message"))).hasSize(1);

        // Not resent by itself: the user retries, and it goes.
        b.driver().findElement(By.cssSelector(".outbox-item[data-state=busy] button.retry")).click();
        b.waitUntil(d -> d.findElements(By.cssSelector(".outbox-item")).isEmpty());
        b.waitUntil(d -> d.findElements(By.cssSelector(".event-message")).size() == 2);
        b.waitUntil(d -> d.findElements(By.cssSelector(".run[data-status=succeeded]")).size() == 1);
        assertThat(b.consoleErrors()).filteredOn(e -> !e.contains("409")).isEmpty();
    }

    @Test
    void theInterruptButtonStopsARun() {
        String project = api.newProject("sv4");
        UUID session = api.newSession(project);
        Browser b = admin();
        open(b, project, session);
        type(b, "sleep 30");
        b.await(By.id("interrupt")).click();
        b.waitUntil(d -> d.findElement(By.cssSelector(".run[data-status=interrupted] .run-banner"))
            .getText()
            .startsWith("Interrupted · by " + Api.ADMIN_LOGIN));
        b.waitUntil(d -> !d.findElement(By.id("interrupt")).isDisplayed());
    }

    @Test
    void aFailingAgentShowsItsErrorAndStderrApart() {
        String project = api.newProject("sv5");
        UUID session = api.newSession(project);
        Browser b = admin();
        open(b, project, session);
        type(b, "fail");
        WebElement run = b.waitUntil(d -> d.findElement(By.cssSelector(".run[data-status=failed]")));
        WebElement error = b.waitUntil(d -> run.findElement(By.cssSelector(".event-error")));
        assertThat(error.getText()).contains("fatal: it broke");
        assertThat(run.findElement(By.cssSelector(".run-banner")).getText()).startsWith("Failed")
            .contains("exit code 3")
            .contains("fatal: it broke");
        assertThat(run.findElement(By.cssSelector("pre.output span.stderr")).getText()).contains("first problem");
        assertThat(run.findElement(By.cssSelector("pre.output span.stdout")).getText()).contains("working");
        assertThat(b.driver().findElement(By.id("run-status")).getAttribute("data-state")).isEqualTo("idle");
    }

    @Test
    void aViewerSeesTheSessionButNoControls() {
        String project = api.newProject("sv6");
        UUID session = api.newSession(project);
        api.sendMessage(session, "lines 2", null);
        awaitIdle(session);
        Browser v = other(project, "viewer");
        open(v, project, session);
        v.waitUntil(d -> d.findElement(By.cssSelector(".run[data-status=succeeded]")));
        assertThat(v.driver().findElements(By.id("composer"))).isEmpty();
        assertThat(v.driver().findElements(By.id("message"))).isEmpty();
        assertThat(v.driver().findElements(By.id("interrupt"))).isEmpty();
        assertThat(v.driver().findElements(By.id("end-session"))).isEmpty();
        assertThat(v.driver().findElement(By.id("read-only")).getText()).contains("only project members");
        v.assertAccessible();
    }

    @Test
    void aGapAfterALostConnectionIsFilledEveryEventOnceInOrder() {
        String project = api.newProject("sv7");
        UUID session = api.newSession(project);
        Browser b = admin();
        open(b, project, session);
        type(b, "lines 2");
        b.waitUntil(d -> d.findElement(By.cssSelector(".run[data-status=succeeded]")));
        b.offline(true);
        try {
            b.waitUntil(d -> !"live".equals(d.findElement(By.id("connection")).getAttribute("data-state")));
            b.waitUntil(d -> "unknown".equals(d.findElement(By.id("run-status")).getAttribute("data-state")));
            // A large history meanwhile (more than max-replay): only to set it up.
            for (int i = 1; i <= 60; i++) {
                eventLog.append(session, "message",
                        Map.of("messageId", UUID.randomUUID().toString(), "text", "filler " + i, "author", "admin"));
            }
        }
        finally {
            b.offline(false);
        }
        awaitLive(b);
        long head = head(session);
        b.waitUntil(d -> renderedSeqs(b).size() >= head);
        assertThat(renderedSeqs(b)).isEqualTo(range(1, head));
        List<String> texts = b.driver()
            .findElements(By.cssSelector(".event-message .text"))
            .stream()
            .map(WebElement::getText)
            .toList();
        assertThat(texts).hasSize(61);
        for (int i = 1; i <= 60; i++) {
            assertThat(texts.get(i)).isEqualTo("filler " + i);
        }

        // Opened afresh: the latest 20 events, and "load earlier" pages back to the
        // start.
        b.go("/p/" + project);
        open(b, project, session);
        b.waitUntil(d -> renderedSeqs(b).equals(range(head - 19, head)));
        b.await(By.id("load-earlier")).click();
        b.waitUntil(d -> renderedSeqs(b).equals(range(1, head)));
        assertThat(b.driver().findElement(By.id("load-earlier")).isDisplayed()).isFalse();
    }

    @Test
    void scrolledUpThePageStaysWhereItIsAndOffersNewEvents() {
        String project = api.newProject("svs");
        UUID session = api.newSession(project);
        for (int i = 1; i <= 30; i++) {
            // A history taller than the window (set up through the log).
            eventLog.append(session, "message",
                    Map.of("messageId", UUID.randomUUID().toString(), "text", "old " + i, "author", "admin"));
        }
        Browser b = admin();
        open(b, project, session);
        b.waitUntil(d -> d.findElements(By.cssSelector(".event-message")).size() == 20);
        b.script("window.scrollTo(0, 0)");
        assertThat(api.sendMessage(session, "lines 3", null).status()).isEqualTo(202);
        WebElement newEvents = b.await(By.id("new-events"));
        b.waitUntil(d -> d.findElements(By.cssSelector(".run[data-status=succeeded]")).size() == 1);
        assertThat(((Number) b.script("return window.scrollY")).longValue()).isZero();
        newEvents.click();
        b.waitUntil(d -> !newEvents.isDisplayed());
        assertThat((Boolean) b
            .script("return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 80"))
            .isTrue();
    }

    @Test
    void aSendWhileOfflineIsDeliveredExactlyOnceWhenBackOnline() {
        String project = api.newProject("sv8");
        UUID session = api.newSession(project);
        Browser b = admin();
        open(b, project, session);
        b.offline(true);
        try {
            b.waitUntil(d -> "offline".equals(d.findElement(By.id("connection")).getAttribute("data-state"))
                    || d.findElement(By.id("connection")).getText().startsWith("Reconnecting in"));
            type(b, "offline hello");
            WebElement item = b.waitUntil(d -> d.findElement(By.cssSelector(".outbox-item[data-state=failed]")));
            assertThat(item.getText()).contains("offline hello", "retrying automatically");
            assertThat(item.findElement(By.cssSelector("button.retry")).isDisplayed()).isTrue();
        }
        finally {
            b.offline(false);
        }
        b.waitUntil(d -> d.findElements(By.cssSelector(".outbox-item")).isEmpty());
        b.waitUntil(d -> d.findElements(By.cssSelector(".run[data-status=succeeded]")).size() == 1);
        JsonNode events = api.get("/api/sessions/" + session + "/events?after=0&limit=1000").json().get("items");
        long sent = 0;
        for (JsonNode event : events) {
            if (event.get("type").asString().equals("message")
                    && event.get("data").get("text").asString().equals("offline hello")) {
                sent++;
            }
        }
        assertThat(sent).isEqualTo(1);
        assertThat((Long) b.script(
                "return Object.keys(localStorage).filter(k => k.startsWith('collab.outbox.') && k.includes(arguments[0])).length",
                session.toString()))
            .isZero();
    }

    @Test
    void theOutboxSurvivesAReload() {
        String project = api.newProject("sv9");
        UUID session = api.newSession(project);
        Browser b = admin();
        open(b, project, session);
        b.offline(true);
        try {
            type(b, "kept across a reload");
            b.waitUntil(d -> d.findElement(By.cssSelector(".outbox-item[data-state=failed]")));
        }
        finally {
            b.offline(false);
        }
        // Reloaded before the automatic retry can happen? Either way, exactly one
        // arrives.
        b.driver().navigate().refresh();
        b.await(By.id("timeline"));
        b.waitUntil(d -> d.findElements(By.cssSelector(".event-message")).size() == 1);
        b.waitUntil(d -> d.findElements(By.cssSelector(".outbox-item")).isEmpty());
        awaitIdle(session);
        JsonNode events = api.get("/api/sessions/" + session + "/events?after=0&limit=1000").json().get("items");
        assertThat(events.valueStream().filter(e -> e.get("type").asString().equals("message")).count()).isEqualTo(1);
    }

    @Test
    void ansiColoursAreRenderedAndOtherEscapesStripped() {
        String project = api.newProject("sva");
        UUID session = api.newSession(project);
        Browser b = admin();
        open(b, project, session);
        String text = "\u001b[31mred\u001b[0m \u001b[1;92mbright\u001b[0m \u001b[38;5;200mpink\u001b[38;2;1;2;3mtrue\u001b[0m"
                + " \u001b]0;pwned title\u0007" + XSS_OSC8 + " \u001b[2J\u001b[10;10H\u001b[?25lend\r\u0008";
        assertThat(api.sendMessage(session, text, null).status()).isEqualTo(202);
        WebElement output = b.waitUntil(d -> d.findElement(By.cssSelector(".run[data-status=succeeded] pre.output")));
        assertThat(output.getText()).isEqualTo("you said: red bright pinktrue click end");
        assertThat(output.findElement(By.cssSelector(".ansi-fg-1")).getText()).isEqualTo("red");
        WebElement bright = output.findElement(By.cssSelector(".ansi-fg-10"));
        assertThat(bright.getText()).isEqualTo("bright");
        assertThat(bright.getAttribute("class")).contains("ansi-bold");
        assertThat(output.findElements(By.tagName("a"))).isEmpty();
        assertThat((String) b.script("return arguments[0].textContent", output)).doesNotContain("\u001b", "\u0007",
                "javascript", "pwned");
        assertThat(b.driver().getTitle()).doesNotContain("pwned");
        b.screenshot(SCREENSHOTS.resolve("session-ansi.png"));
    }

    @Test
    void hostileTitlesMessagesAndOutputShowAsText() {
        String project = api.newProject("svx");
        String title = XSS_IMG + " " + XSS_SCRIPT + " " + XSS_LINK;
        UUID session = UUID
            .fromString(api.post("/api/projects/" + project + "/sessions", Api.json(Map.of("title", title)))
                .json()
                .get("id")
                .asString());
        Browser b = admin();
        open(b, project, session);
        assertThat(b.driver().findElement(By.tagName("h1")).getText()).isEqualTo(title);
        type(b, XSS_IMG + " " + XSS_SCRIPT + " " + XSS_LINK);
        b.waitUntil(d -> d.findElements(By.cssSelector(".run[data-status=succeeded]")).size() == 1);
        assertThat(api.sendMessage(session, XSS_OSC8, null).status()).isEqualTo(202);
        b.waitUntil(d -> d.findElements(By.cssSelector(".run[data-status=succeeded]")).size() == 2);
        List<WebElement> messages = b.driver().findElements(By.cssSelector(".event-message .text"));
        assertThat(messages.get(0).getText()).isEqualTo(XSS_IMG + " " + XSS_SCRIPT + " " + XSS_LINK);
        assertThat(b.driver().findElements(By.cssSelector("pre.output")).get(0).getText())
            .isEqualTo("you said: " + XSS_IMG + " " + XSS_SCRIPT + " " + XSS_LINK);
        assertThat(b.driver().findElements(By.cssSelector("pre.output")).get(1).getText()).isEqualTo("you said: click");
        assertThat(b.driver().findElements(By.cssSelector("#main img, #main script, #timeline a"))).isEmpty();
        assertThat(b.script("return window.__xss")).isNull();
        assertThat(b.consoleErrors()).isEmpty();
    }

    @Test
    void endingASessionAsksFirstThenMakesItReadOnly() {
        String project = api.newProject("sve");
        UUID session = api.newSession(project);
        Browser b = admin();
        open(b, project, session);
        b.await(By.id("end-session")).click();
        WebElement dialog = b.await(By.id("confirm-end"));
        b.driver().findElement(By.id("confirm-end-no")).click();
        b.waitUntil(d -> !dialog.isDisplayed());
        assertThat(api.get("/api/sessions/" + session).json().get("state").asString()).isEqualTo("IDLE");
        b.driver().findElement(By.id("end-session")).click();
        b.await(By.id("confirm-end-yes")).click();
        b.waitUntil(d -> d.findElement(By.cssSelector(".event-ended")).getText().startsWith("Session ended by "));
        assertThat(b.driver().findElement(By.id("session-state")).getAttribute("data-state")).isEqualTo("ENDED");
        assertThat(b.driver().findElement(By.id("run-status")).getAttribute("data-state")).isEqualTo("ended");
        assertThat(b.driver().findElements(By.id("composer"))).isEmpty();
        assertThat(b.driver().findElement(By.id("end-session")).isDisplayed()).isFalse();
        assertThat(api.get("/api/sessions/" + session).json().get("state").asString()).isEqualTo("ENDED");
    }

    @Test
    void at360PixelsThePageDoesNotScrollSideways() {
        String project = api.newProject("svn");
        UUID session = api.newSession(project);
        api.sendMessage(session, "a-very-long-word-without-any-spaces-" + "x".repeat(200) + " and lines 3", null);
        awaitIdle(session);
        Browser b = admin();
        WebDriver.Window window = b.driver().manage().window();
        Dimension before = window.getSize();
        window.setSize(new Dimension(360, 800));
        try {
            open(b, project, session);
            b.waitUntil(d -> d.findElement(By.cssSelector(".run[data-status=succeeded]")));
            b.waitUntil(d -> (Boolean) b.script(
                    "return document.documentElement.scrollWidth <= window.innerWidth && window.innerWidth <= 400"));
            b.assertAccessible();
            b.screenshot(SCREENSHOTS.resolve("session-360.png"));
        }
        finally {
            window.setSize(before);
        }
    }

}
