package dev.collab.app;

import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.springframework.beans.factory.annotation.Autowired;

import dev.collab.support.Api;
import dev.collab.support.Browser;
import dev.collab.support.Browsers;
import dev.collab.support.IntegrationTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The session view's stream client (app/stream.js) against the real server's answers, in
 * a real Chromium: a non-200 answer is retried with backoff (EventSource would give up),
 * 204 (ended and complete) and 404 stop it; and what the view shows for an ended and an
 * unknown session.
 */
@IntegrationTest
class SessionStreamBrowserTest {

    @RegisterExtension
    static final Browsers browsers = new Browsers();

    @Autowired
    Api api;

    Browser browser() {
        return browsers.loggedIn("browser", api.base(), Api.ADMIN_LOGIN, Api.ADMIN_PASSWORD);
    }

    /**
     * Follows {@code url} with the app's stream module until it ends or reported
     * {@code failures} reconnect waits; returns the statuses it reported, then "end:…".
     */
    @SuppressWarnings("unchecked")
    static List<String> follow(Browser b, String url, long cursor, int failures) {
        return (List<String>) b.driver()
            .executeAsyncScript(
                    """
                            const [url, cursor, failures, done] = arguments;
                            import('/app/stream.js').then(({ follow }) => {
                              const seen = [];
                              const stop = new AbortController();
                              const finish = () => { stop.abort(); done(seen); };
                              follow({ url, cursor: () => cursor, signal: stop.signal, onEvent: () => {},
                                onStatus: (state, seconds) => {
                                  seen.push(state + (seconds ? ' ' + seconds : ''));
                                  if (seen.filter((s) => s.startsWith('reconnecting ') || s.startsWith('offline ')).length >= failures) finish();
                                },
                                onEnd: (reason) => { seen.push('end:' + reason); finish(); } });
                            });
                            """,
                    url, cursor, failures);
    }

    @Test
    void aNon200AnswerIsRetriedWithBackoffNotGivenUp() {
        String project = api.newProject("st");
        UUID session = api.newSession(project);
        Browser b = browser();
        b.go("/");
        // A cursor that is not a number: 400 from the server, every time.
        List<String> seen = follow(b, "/api/sessions/" + session + "/events/stream?after=x", 0, 3);
        assertThat(seen).first().isEqualTo("connecting");
        assertThat(seen).noneMatch(s -> s.startsWith("end:"));
        assertThat(seen).filteredOn(s -> s.startsWith("reconnecting ")).hasSizeGreaterThanOrEqualTo(3);
        assertThat(b.consoleErrors()).filteredOn(e -> !e.contains("400")).isEmpty();
    }

    @Test
    void anEndedSessionStopsWith204AndAnUnknownOneWith404() {
        String project = api.newProject("st2");
        UUID session = api.newSession(project);
        assertThat(api.delete("/api/sessions/" + session).status()).isEqualTo(204);
        long head = api.get("/api/sessions/" + session).json().get("headSeq").asLong();
        Browser b = browser();
        b.go("/");
        assertThat(follow(b, "/api/sessions/" + session + "/events/stream", head, 3)).containsExactly("connecting",
                "end:complete");
        assertThat(follow(b, "/api/sessions/" + UUID.randomUUID() + "/events/stream", 0, 3))
            .containsExactly("connecting", "end:not-found");
        b.consoleErrors();
    }

    @Test
    void anEndedSessionOpensReadOnlyAndComplete() {
        String project = api.newProject("st3");
        UUID session = api.newSession(project);
        api.sendMessage(session, "lines 2", null);
        browser().waitUntil(d -> "IDLE".equals(api.get("/api/sessions/" + session).json().get("state").asString()));
        assertThat(api.delete("/api/sessions/" + session).status()).isEqualTo(204);
        Browser b = browser();
        b.go("/p/" + project + "/s/" + session);
        b.waitUntil(d -> d.findElement(By.cssSelector(".event-ended")).isDisplayed());
        b.waitUntil(d -> "ended".equals(d.findElement(By.id("run-status")).getAttribute("data-state")));
        assertThat(b.driver().findElement(By.id("session-state")).getAttribute("data-state")).isEqualTo("ENDED");
        assertThat(b.driver().findElements(By.id("composer"))).isEmpty();
        assertThat(b.driver().findElement(By.cssSelector(".run[data-status=succeeded] pre.output")).getText())
            .isEqualTo("line 1\nline 2");
        // The stream ended with the session (then 204): no spinner, no reconnecting.
        b.waitUntil(d -> d.findElement(By.id("connection")).getText().isEmpty());
    }

    @Test
    void anUnknownSessionSaysSoInWords() {
        String project = api.newProject("st4");
        Browser b = browser();
        b.go("/p/" + project + "/s/" + UUID.randomUUID());
        assertThat(b.await(By.tagName("h1")).getText()).isEqualTo("Session not found");
        assertThat(b.driver().findElement(By.id("main")).getText())
            .contains("This session does not exist or you no longer have access.");
        b.consoleErrors();
    }

    /**
     * The header's badge counts down every second while reconnecting; screen readers hear
     * each change of state once (#connection-announce), not every tick.
     */
    @Test
    void screenReadersHearChangesOfConnectionStateNotEveryTick() {
        String project = api.newProject("announce");
        UUID session = api.newSession(project);
        Browser b = browser();
        b.go("/p/" + project + "/s/" + session);
        b.waitUntil(d -> "live".equals(d.findElement(By.id("connection")).getAttribute("data-state")));
        assertThat(b.driver().findElement(By.id("connection")).getAttribute("aria-live")).isEqualTo("off");
        b.script("""
                window.__announced = [];
                new MutationObserver(() => window.__announced.push(
                    document.getElementById('connection-announce').textContent))
                  .observe(document.getElementById('connection-announce'),
                    { childList: true, characterData: true, subtree: true });
                """);
        b.offline(true);
        try {
            // Two different countdown texts seen: at least one tick went by.
            java.util.Set<String> badges = new java.util.HashSet<>();
            b.waitUntil(java.time.Duration.ofSeconds(60), d -> {
                String state = d.findElement(By.id("connection")).getAttribute("data-state");
                if (!"live".equals(state)) {
                    badges.add(d.findElement(By.id("connection")).getText());
                }
                return badges.size() >= 2;
            });
        }
        finally {
            b.offline(false);
        }
        b.waitUntil(d -> "live".equals(d.findElement(By.id("connection")).getAttribute("data-state")));
        @SuppressWarnings("unchecked")
        List<String> announced = (List<String>) b.script("return window.__announced");
        // Lost once (reconnecting or offline, possibly both), then live again: never a
        // tick.
        assertThat(announced).isNotEmpty().allSatisfy(text -> assertThat(text).doesNotContainPattern("[0-9]"));
        assertThat(announced.get(announced.size() - 1)).isEqualTo("Live: connected.");
        assertThat(announced).as("announced").hasSize(2);
    }

}
