package dev.collab.app;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import tools.jackson.databind.JsonNode;

import dev.collab.support.Api;
import dev.collab.support.Browser;
import dev.collab.support.CollabTestInitializer;
import dev.collab.support.ServerProcess;
import dev.collab.support.TempDirectories;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server is stopped with SIGTERM in the middle of a run and started again on the same
 * port and data directory (a real process in built-in mode, as an operator runs it),
 * while a session page stays open in Chromium. The page says it is reconnecting and never
 * shows the run as still running while it cannot know; it reconnects by itself (no
 * reload) and then shows every event of the log exactly once, in order; and a message
 * sent while the server was down waits in the outbox and is delivered exactly once when
 * the server is back.
 */
class AppRestartBrowserIT {

    /**
     * The first run prints "tick 1".."tick 40", one line every 200 ms (test-agent.sh).
     */
    private static final int TICKS = 40;

    private static final Duration RECONNECT = Duration.ofSeconds(120);

    private static final Set<String> FINAL_RUN_STATES = Set.of("succeeded", "failed", "interrupted", "lost");

    static Browser browser;

    static ServerProcess server;

    @BeforeAll
    static void available() {
        Browser.assumeAvailable();
    }

    @AfterAll
    static void close() {
        if (browser != null) {
            browser.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void afterARestartThePageReconnectsByItselfShowsEveryEventOnceAndDeliversTheOfflineSendOnce() {
        Path dataDir = TempDirectories.create("app-restart-");
        server = ServerProcess.start(dataDir, "--collab.runner.command=sh," + CollabTestInitializer.testAgent())
            .awaitReady();
        Api api = server.api();
        String project = api.newProject("restart");
        UUID session = api.newSession(project);

        browser = Browser.open(api.base());
        Browser b = browser.login(Api.ADMIN_LOGIN, Api.ADMIN_PASSWORD);
        b.go("/p/" + project + "/s/" + session);
        awaitConnection(b, Duration.ofSeconds(30), "live");
        // A page that reloads loses this: the end checks it is still there.
        b.script("window.__sameDocument = 'restart-test';");

        send(b, "ticks " + TICKS);
        b.waitUntil(Duration.ofSeconds(60), d -> runOutput(b).contains("tick 3"));
        assertThat(b.driver().findElement(By.id("run-status")).getAttribute("data-state")).isEqualTo("running");

        assertThat(server.terminate(Duration.ofSeconds(90))).isIn(0, 143);
        awaitConnection(b, Duration.ofSeconds(30), "reconnecting", "offline");
        // The run ended while the page was cut off: it must not go on showing it as
        // running.
        b.waitUntil(Duration.ofSeconds(30),
                d -> !"running".equals(d.findElement(By.id("run-status")).getAttribute("data-state")));
        b.screenshot(Path.of("target", "screenshots", "app-restart-reconnecting.png"));

        String offlineText = "sent while the server was down " + UUID.randomUUID();
        send(b, offlineText);
        WebElement queued = b.waitUntil(Duration.ofSeconds(30),
                d -> d.findElements(By.cssSelector("#outbox .outbox-item"))
                    .stream()
                    .filter(item -> item.getText().contains(offlineText))
                    .findFirst()
                    .orElse(null));
        assertThat(queued.getAttribute("data-state")).isIn("sending", "failed");

        server = server.restart().awaitReady();
        awaitConnection(b, RECONNECT, "live");
        // The outbox retries by itself, with the same Idempotency-Key.
        b.waitUntil(RECONNECT, d -> d.findElements(By.cssSelector("#outbox .outbox-item")).isEmpty());
        // Its run ends ("you said: …"): then the log is complete.
        org.awaitility.Awaitility.await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> "IDLE".equals(api.get("/api/sessions/" + session).json().get("state").asString()));
        List<JsonNode> history = history(api, session);
        // The page has caught up: its last item is the log's last event that has an item
        // of its own, and every run of the log has a card with its final state.
        long lastItem = history.stream()
            .filter(event -> !event.get("type").asString().startsWith("run."))
            .mapToLong(event -> event.get("seq").asLong())
            .max()
            .orElseThrow();
        long runs = history.stream().filter(event -> event.get("type").asString().equals("run.started")).count();
        b.waitUntil(Duration.ofSeconds(30), d -> lastCoveredSeq(b) >= lastItem && finishedRunCards(b) == runs);

        assertThat(b.script("return window.__sameDocument;")).as("the page was not reloaded").isEqualTo("restart-test");
        assertThat(history.stream()
            .filter(event -> event.get("type").asString().equals("message"))
            .filter(event -> event.get("data").get("text").asString().equals(offlineText))
            .count()).as("the offline send, delivered exactly once").isEqualTo(1);
        assertEveryEventShownOnceInOrder(b, history);
        assertThat(b.driver()
            .findElements(By.cssSelector("#timeline .event-message .text"))
            .stream()
            .filter(text -> text.getText().equals(offlineText))
            .count()).as("the offline send on the page").isEqualTo(1);
        assertTicksShownOnce(b, history);
        for (WebElement run : b.driver().findElements(By.cssSelector("#timeline .run"))) {
            assertThat(run.getAttribute("data-status")).as("run card %s", run.getAttribute("data-run-id"))
                .isIn(FINAL_RUN_STATES);
        }
        assertThat(b.driver().findElement(By.id("run-status")).getAttribute("data-state")).isEqualTo("idle");
        assertThat(b.consoleErrors()).filteredOn(entry -> entry.contains("Content Security Policy")).isEmpty();
        b.screenshot(Path.of("target", "screenshots", "app-restart-reconnected.png"));
    }

    /** Types into the composer and presses Enter, as a user does. */
    private static void send(Browser b, String text) {
        WebElement message = b.await(By.id("message"));
        message.sendKeys(text);
        message.sendKeys(Keys.ENTER);
    }

    private static void awaitConnection(Browser b, Duration within, String... states) {
        Set<String> wanted = Set.of(states);
        b.waitUntil(within, d -> wanted.contains(d.findElement(By.id("connection")).getAttribute("data-state"))
                ? Boolean.TRUE : null);
    }

    /** The output of every run card on the page. */
    private static String runOutput(Browser b) {
        StringBuilder text = new StringBuilder();
        for (WebElement output : b.driver().findElements(By.cssSelector("#timeline .run pre.output"))) {
            text.append(output.getAttribute("textContent")).append('\n');
        }
        return text.toString();
    }

    /**
     * The rendered items' seq ranges ({@code data-seq}..{@code data-last-seq}), in
     * document order, each with whether another item with a seq is inside it.
     */
    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> items(Browser b) {
        return (List<Map<String, Object>>) b.script("""
                return [...document.querySelectorAll('#timeline [data-seq]')].map(e => ({
                  first: Number(e.dataset.seq),
                  last: Number(e.dataset.lastSeq || e.dataset.seq),
                  leaf: e.querySelector('[data-seq]') === null,
                  runId: e.dataset.runId || null
                }));
                """);
    }

    private static long finishedRunCards(Browser b) {
        return b.driver()
            .findElements(By.cssSelector("#timeline .run"))
            .stream()
            .filter(run -> FINAL_RUN_STATES.contains(run.getAttribute("data-status")))
            .count();
    }

    private static long lastCoveredSeq(Browser b) {
        return items(b).stream().mapToLong(item -> ((Number) item.get("last")).longValue()).max().orElse(0);
    }

    /**
     * Each seq 1..headSeq is shown by exactly one item: the innermost item whose range
     * holds it. Items without items inside (messages, output blocks, errors) are in
     * ascending order and never overlap. The only events that may have no item of their
     * own are the session's creation and a run's start and end, which the run card (with
     * its data-run-id and final data-status, checked separately) shows.
     */
    private static void assertEveryEventShownOnceInOrder(Browser b, List<JsonNode> history) {
        List<Map<String, Object>> items = items(b);
        List<long[]> leaves = new ArrayList<>();
        for (Map<String, Object> item : items) {
            if ((Boolean) item.get("leaf")) {
                leaves.add(new long[] { ((Number) item.get("first")).longValue(),
                        ((Number) item.get("last")).longValue() });
            }
        }
        for (int i = 0; i < leaves.size(); i++) {
            assertThat(leaves.get(i)[0]).as("item %d: first <= last", i).isLessThanOrEqualTo(leaves.get(i)[1]);
            if (i > 0) {
                assertThat(leaves.get(i)[0])
                    .as("item %d starts after item %d ends (in order, no seq twice): %s", i, i - 1, describe(leaves))
                    .isGreaterThan(leaves.get(i - 1)[1]);
            }
        }
        Set<String> runIdsOnPage = new java.util.HashSet<>();
        for (Map<String, Object> item : items) {
            if (item.get("runId") != null) {
                runIdsOnPage.add((String) item.get("runId"));
            }
        }
        List<String> missing = new ArrayList<>();
        for (JsonNode event : history) {
            long seq = event.get("seq").asLong();
            boolean covered = items.stream()
                .anyMatch(item -> ((Number) item.get("first")).longValue() <= seq
                        && seq <= ((Number) item.get("last")).longValue());
            String type = event.get("type").asString();
            boolean shownByItsRunCard = (type.equals("run.started") || type.equals("run.finished"))
                    && runIdsOnPage.contains(event.get("data").get("runId").asString());
            if (!covered && !shownByItsRunCard && !type.equals("session.created")) {
                missing.add(seq + " " + type);
            }
        }
        assertThat(missing).as("events of the log that the page does not show: %s", describe(leaves)).isEmpty();
        long headSeq = history.getLast().get("seq").asLong();
        assertThat(items)
            .allSatisfy(item -> assertThat(((Number) item.get("last")).longValue()).as("no item beyond the log's head")
                .isLessThanOrEqualTo(headSeq));
    }

    /** Every line the first run printed is on the page exactly once. */
    private static void assertTicksShownOnce(Browser b, List<JsonNode> history) {
        List<String> printed = history.stream()
            .filter(event -> event.get("type").asString().equals("output"))
            .flatMap(event -> event.get("data").get("text").asString().lines())
            .filter(line -> line.startsWith("tick "))
            .toList();
        assertThat(printed).as("the run printed some ticks before SIGTERM").isNotEmpty();
        List<String> shown = runOutput(b).lines().filter(line -> line.startsWith("tick ")).toList();
        assertThat(shown).as("the ticks on the page, once each, in order").containsExactlyElementsOf(printed);
    }

    private static String describe(List<long[]> ranges) {
        return ranges.stream()
            .map(range -> range[0] == range[1] ? Long.toString(range[0]) : range[0] + "-" + range[1])
            .toList()
            .toString();
    }

    /** The session's whole log, through the API. */
    private static List<JsonNode> history(Api api, UUID session) {
        List<JsonNode> events = new ArrayList<>();
        long after = 0;
        while (true) {
            JsonNode page = api.get("/api/sessions/" + session + "/events?after=" + after + "&limit=1000").json();
            for (JsonNode event : page.get("items")) {
                events.add(event);
                after = event.get("seq").asLong();
            }
            if (after >= page.get("headSeq").asLong()) {
                return events;
            }
        }
    }

}
