package dev.collab.app;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import dev.collab.event.EventLog;
import dev.collab.support.Api;
import dev.collab.support.Browser;
import dev.collab.support.Browsers;
import dev.collab.support.IntegrationTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The session view's timeline in a real Chromium: output without newlines stays bounded
 * and a carriage return restarts the line; "Load earlier" is not undone by the next live
 * event; live regions do not announce the ticking time; the focus has somewhere to go
 * after an action; few Tab stops and no landmark per run; ANSI colours readable on their
 * background; an unterminated escape string does not swallow the output after it. Large
 * histories are appended through the EventLog (set-up only); everything the user does
 * goes through the page.
 */
@IntegrationTest
@TestPropertySource(properties = "collab.runner.timeout=60s")
class SessionTimelineBrowserTest {

    @RegisterExtension
    static final Browsers browsers = new Browsers();

    @Autowired
    Api api;

    @Autowired
    EventLog eventLog;

    Browser admin() {
        return browsers.loggedIn("browser", api.base(), Api.ADMIN_LOGIN, Api.ADMIN_PASSWORD);
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

    void awaitIdle(UUID session) {
        admin().waitUntil(Duration.ofSeconds(30),
                d -> "IDLE".equals(api.get("/api/sessions/" + session).json().get("state").asString()));
    }

    long output(UUID session, String runId, String text) {
        return eventLog.append(session, "output", Map.of("runId", runId, "stream", "stdout", "text", text)).seq();
    }

    @Test
    void outputWithoutNewlinesIsBoundedAndACarriageReturnRestartsTheLine() {
        String project = api.newProject("tl1");
        UUID session = api.newSession(project);
        String runId = UUID.randomUUID().toString();
        eventLog.append(session, "run.started", Map.of("runId", runId, "messageId", "m", "by", Api.ADMIN_LOGIN));
        String chunk = "{\"key\":\"value\",\"n\":12345678901234567890,\"more\":\"" + "x".repeat(350) + "\"},";
        for (int i = 0; i < 3000; i++) {
            output(session, runId, chunk);
        }
        long last = eventLog
            .append(session, "run.finished", Map.of("runId", runId, "status", "succeeded", "exitCode", 0))
            .seq();
        String progress = UUID.randomUUID().toString();
        eventLog.append(session, "run.started", Map.of("runId", progress, "messageId", "m", "by", Api.ADMIN_LOGIN));
        output(session, progress, "downloading\n");
        for (int p = 10; p <= 100; p += 10) {
            output(session, progress, "\r" + p + "% " + "#".repeat(p / 10));
        }
        output(session, progress, "\ndone\n");
        long end = eventLog
            .append(session, "run.finished", Map.of("runId", progress, "status", "succeeded", "exitCode", 0))
            .seq();
        Browser b = admin();
        b.go("/p/" + project + "/s/" + session);
        b.waitUntil(d -> d.findElements(By.cssSelector("#timeline [data-finished-seq='" + end + "']")).size() == 1);
        assertThat(b.driver().findElements(By.cssSelector("#timeline [data-finished-seq='" + last + "']"))).hasSize(1);

        WebElement run = b.driver().findElement(By.cssSelector(".run[data-run-id='" + runId + "']"));
        long longestSpan = (Long) b.script(
                "return Math.max(...[...arguments[0].querySelectorAll('pre.output > span')].map(s => s.textContent.length))",
                run);
        long spans = (Long) b.script("return arguments[0].querySelectorAll('pre.output > span').length", run);
        assertThat(longestSpan).isLessThanOrEqualTo(4096 + chunk.length());
        assertThat(spans).isBetween(2L, 60L);
        assertThat(run.findElement(By.cssSelector("button.expand-output")).isDisplayed()).isTrue();

        WebElement bar = b.driver().findElement(By.cssSelector(".run[data-run-id='" + progress + "'] pre.output"));
        assertThat(bar.getText()).isEqualTo("downloading\n100% ##########\ndone");
    }

    @Test
    void aProgressBarLongerThanASpanShowsOnlyItsLastState() {
        String project = api.newProject("tl-cr");
        UUID session = api.newSession(project);
        String runId = UUID.randomUUID().toString();
        eventLog.append(session, "run.started", Map.of("runId", runId, "messageId", "m", "by", Api.ADMIN_LOGIN));
        output(session, runId, "downloading\n");
        // 150 updates of 100 characters: 15 KB, more than three times a span's bound (and
        // fewer
        // events than the first page of history, so all of them are shown).
        for (int p = 1; p <= 150; p++) {
            output(session, runId, "\r" + String.format("%3d%% ", p * 100 / 150) + "#".repeat(95));
        }
        output(session, runId, "\ndone\n");
        long end = eventLog
            .append(session, "run.finished", Map.of("runId", runId, "status", "succeeded", "exitCode", 0))
            .seq();
        Browser b = admin();
        b.go("/p/" + project + "/s/" + session);
        b.waitUntil(d -> d.findElements(By.cssSelector("#timeline [data-finished-seq='" + end + "']")).size() == 1);
        WebElement run = b.driver().findElement(By.cssSelector(".run[data-run-id='" + runId + "']"));
        String text = run.findElement(By.cssSelector("pre.output")).getText();
        assertThat(text).isEqualTo("downloading\n100% " + "#".repeat(95) + "\ndone");
        assertThat(text).doesNotContain("99%");
        // The overwritten states do not count: three short lines are not collapsed.
        assertThat(run.findElement(By.cssSelector("button.expand-output")).isDisplayed()).isFalse();
    }

    @Test
    void loadEarlierIsNotUndoneByTheNextLiveEventAndNothingMovesUnderTheReader() {
        String project = api.newProject("tl2");
        UUID session = api.newSession(project);
        for (int i = 1; i <= 1700; i++) {
            eventLog.append(session, "message", Map.of("messageId", UUID.randomUUID().toString(), "text",
                    "history message " + i, "author", Api.ADMIN_LOGIN));
        }
        Browser b = admin();
        open(b, project, session);
        WebElement loadEarlier = b.driver().findElement(By.id("load-earlier"));
        while (loadEarlier.isDisplayed()) {
            long first = firstSeq(b);
            loadEarlier.click();
            b.waitUntil(Duration.ofSeconds(30), d -> !loadEarlier.isDisplayed() || firstSeq(b) < first);
        }
        assertThat(firstSeq(b)).isEqualTo(1);
        // The focus went to the first event, not to <body>.
        assertThat(b.script("return document.activeElement.dataset.seq")).isEqualTo("1");
        b.script("window.scrollTo(0, 0)");
        Number before = (Number) b
            .script("return document.querySelector('#timeline > [data-seq=\"50\"]').getBoundingClientRect().top");

        assertThat(api.post("/api/sessions/" + session + "/messages", "{\"text\":\"a new one\"}").status())
            .isEqualTo(202);
        b.waitUntil(d -> d.findElements(By.cssSelector(".run[data-status=succeeded]")).size() == 1);
        assertThat(firstSeq(b)).isEqualTo(1);
        Number after = (Number) b
            .script("return document.querySelector('#timeline > [data-seq=\"50\"]').getBoundingClientRect().top");
        assertThat(after.doubleValue()).isCloseTo(before.doubleValue(), org.assertj.core.data.Offset.offset(1.0));
        assertThat(b.driver().findElement(By.id("new-events")).isDisplayed()).isTrue();

        // Back at the bottom, the page is trimmed to its usual size again.
        b.driver().findElement(By.id("new-events")).click();
        b.waitUntil(d -> (Long) b.script("return document.getElementById('timeline').childElementCount") <= 1500);
    }

    static long firstSeq(Browser b) {
        return Long.parseLong((String) b.script("return document.querySelector('#timeline > *').dataset.seq"));
    }

    /**
     * The words of a live region that a screen reader is given (aria-hidden parts left
     * out).
     */
    static String announced(Browser b, String selector) {
        return (String) b.script("""
                const walk = (node) => node.nodeType === Node.TEXT_NODE ? node.data
                  : node.getAttribute && node.getAttribute('aria-hidden') === 'true' ? ''
                  : [...node.childNodes].map(walk).join('');
                return walk(document.querySelector(arguments[0]));
                """, selector);
    }

    @Test
    void liveRegionsAnnounceChangesOfStateNotTheTickingTime() {
        String project = api.newProject("tl3", "reject");
        UUID session = api.newSession(project);
        Browser b = admin();
        open(b, project, session);
        type(b, "sleep 20");
        b.waitUntil(d -> "running".equals(d.findElement(By.id("run-status")).getAttribute("data-state")));
        String status = announced(b, "#run-status");
        String banner = announced(b, ".run[data-status=running] .run-banner");
        String shown = b.driver().findElement(By.id("run-status")).getText();
        assertThat(shown).startsWith("Agent running · ");
        // The time on the screen ticks; what is announced stays the same.
        b.waitUntil(d -> !d.findElement(By.id("run-status")).getText().equals(shown));
        assertThat(announced(b, "#run-status")).isEqualTo(status)
            .startsWith("Agent running")
            .doesNotContainPattern("\\d+ s");
        assertThat(announced(b, ".run[data-status=running] .run-banner")).isEqualTo(banner);

        type(b, "while busy");
        b.await(By.id("busy-notice"));
        String alert = announced(b, "#busy-notice");
        assertThat(alert).contains("busy").doesNotContain("running for");
        b.driver().findElement(By.id("busy-interrupt")).click();
        b.waitUntil(d -> !d.findElement(By.id("busy-notice")).isDisplayed());
        // The interrupt button is gone: the focus is in the message box, not lost.
        assertThat(b.script("return document.activeElement.id")).isEqualTo("message");
        b.waitUntil(d -> d.findElements(By.cssSelector(".run[data-status=interrupted]")).size() == 1);
        awaitIdle(session);
        b.driver().findElement(By.cssSelector(".outbox-item button.discard")).click();
        b.waitUntil(d -> d.findElements(By.cssSelector(".outbox-item")).isEmpty());
        assertThat(b.script("return document.activeElement.id")).isEqualTo("message");

        b.driver().findElement(By.id("end-session")).click();
        b.await(By.id("confirm-end-yes")).click();
        b.waitUntil(d -> "ended".equals(d.findElement(By.id("run-status")).getAttribute("data-state")));
        assertThat(b.script("return document.activeElement.id")).isEqualTo("run-status");
    }

    @Test
    void runsAreNotLandmarksAndOnlyScrollableOutputIsATabStop() {
        String project = api.newProject("tl4");
        UUID session = api.newSession(project);
        Browser b = admin();
        open(b, project, session);
        type(b, "lines 3");
        b.waitUntil(d -> d.findElements(By.cssSelector(".run[data-status=succeeded]")).size() == 1);
        awaitIdle(session);
        type(b, "lines 80");
        b.waitUntil(d -> d.findElements(By.cssSelector(".run[data-status=succeeded]")).size() == 2);
        assertThat(b.driver().findElements(By.cssSelector("section.run"))).isEmpty();
        assertThat(b.driver().findElements(By.cssSelector("article.run"))).hasSize(2);
        var outputs = b.driver().findElements(By.cssSelector("pre.output"));
        assertThat(outputs.get(0).getAttribute("tabindex")).isNull();
        assertThat(outputs.get(1).getAttribute("tabindex")).isEqualTo("0");

        WebElement skip = b.driver().findElement(By.id("skip-to-message"));
        b.script("arguments[0].focus()", skip);
        skip.sendKeys(Keys.ENTER);
        assertThat(b.script("return document.activeElement.id")).isEqualTo("message");
        b.assertAccessible();
    }

    @Test
    void ansiColoursStayReadableOnTheirBackgroundAndAnOpenEscapeStringKeepsTheRest() {
        String project = api.newProject("tl5");
        UUID session = api.newSession(project);
        Browser b = admin();
        open(b, project, session);
        // Through the API: a browser cannot type an ESC into the message box.
        assertThat(api.sendMessage(session,
                "\u001b[30;43m WARN \u001b[0m \u001b[90;104m note \u001b[0m \u001b[30;42m PASS \u001b[0m \u001b[7m INVERSE \u001b[27m",
                null)
            .status()).isEqualTo(202);
        WebElement warn = b.waitUntil(
                d -> d.findElement(By.xpath("//pre[contains(@class,'output')]//span[contains(text(), 'WARN')]")));
        assertThat(warn.getAttribute("class")).contains("ansi-bg-3")
            .doesNotContain("ansi-fg-0")
            .containsPattern("ansi-fg-(black|white)");
        WebElement inverse = b.driver()
            .findElement(By.xpath("//pre[contains(@class,'output')]//span[contains(text(), 'INVERSE')]"));
        assertThat(inverse.getAttribute("class")).contains("ansi-bg-");
        b.assertAccessible();
        awaitIdle(session);

        assertThat(
                api.sendMessage(session, "before \u001b]" + "x".repeat(300) + " after the stray escape", null).status())
            .isEqualTo(202);
        b.waitUntil(d -> d.findElements(By.cssSelector(".run[data-status=succeeded]")).size() == 2);
        assertThat(b.driver().findElements(By.cssSelector("pre.output")).get(1).getText())
            .contains("after the stray escape");
    }

    @Test
    void hostileAuthorNamesAndErrorMessagesShowAsText() {
        String project = api.newProject("tl6");
        UUID session = api.newSession(project);
        String img = "<img src=x onerror=window.__xss=1>";
        String script = "<script>window.__xss=1</script>";
        // Set-up only: a runner's stderr-derived error and an author name no login can
        // have.
        eventLog.append(session, "message",
                Map.of("messageId", UUID.randomUUID().toString(), "text", "hello", "author", img));
        eventLog.append(session, "error", Map.of("code", "runner-failed", "message", script + " the runner failed"));
        Browser b = admin();
        open(b, project, session);
        b.waitUntil(d -> d.findElements(By.cssSelector(".event-error")).size() == 1);
        assertThat(b.driver().findElement(By.cssSelector(".event-message .author")).getText()).isEqualTo(img);
        assertThat(b.driver().findElement(By.cssSelector(".event-error")).getText())
            .endsWith(script + " the runner failed");
        assertThat(b.driver().findElements(By.cssSelector("#timeline img, #timeline script"))).isEmpty();
        assertThat(b.script("return window.__xss === undefined")).isEqualTo(true);
    }

}
