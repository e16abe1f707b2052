package dev.collab.app;

import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.springframework.beans.factory.annotation.Autowired;

import dev.collab.event.EventLog;
import dev.collab.support.Api;
import dev.collab.support.Browser;
import dev.collab.support.Browsers;
import dev.collab.support.IntegrationTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every way a run can end has a banner that says so, in words (the seed's silent-failure
 * incident: never an endless spinner). A run whose instance died ends {@code lost} with
 * the reaper's {@code runner-lost} error: the card says Lost with that error, and the
 * session's status says idle again. The events are the ones the lease reaper appends
 * (written here through the EventLog: a real lost run needs a killed instance, which
 * AppRestartBrowserIT's SIGTERM does not give).
 */
@IntegrationTest
class RunBannersBrowserTest {

    @RegisterExtension
    static final Browsers browsers = new Browsers();

    @Autowired
    Api api;

    @Autowired
    EventLog eventLog;

    @Test
    void aLostRunSaysLostWithTheReapersErrorAndTheSessionIsIdleAgain() {
        String project = api.newProject("lost");
        UUID session = api.newSession(project);
        Browser b = browsers.loggedIn("browser", api.base(), Api.ADMIN_LOGIN, Api.ADMIN_PASSWORD);
        b.go("/p/" + project + "/s/" + session);
        b.waitUntil(d -> "live".equals(d.findElement(By.id("connection")).getAttribute("data-state")));

        String runId = UUID.randomUUID().toString();
        eventLog.append(session, "run.started", Map.of("runId", runId, "messageId", "m", "by", Api.ADMIN_LOGIN));
        eventLog.append(session, "output", Map.of("runId", runId, "stream", "stdout", "text", "working\n"));
        WebElement card = b.await(By.cssSelector(".run[data-run-id='" + runId + "']"));
        b.waitUntil(d -> "running".equals(card.getAttribute("data-status")));
        b.waitUntil(d -> "running".equals(d.findElement(By.id("run-status")).getAttribute("data-state")));

        Map<String, Object> finished = new java.util.HashMap<>(Map.of("runId", runId, "status", "lost"));
        finished.put("exitCode", null);
        eventLog.append(session, "run.finished", finished);
        eventLog.append(session, "error", Map.of("runId", runId, "code", "runner-lost", "message",
                "The server running this run stopped answering; the run is lost."));

        b.waitUntil(d -> "lost".equals(card.getAttribute("data-status")));
        b.waitUntil(d -> card.getText().contains("The server running this run stopped answering"));
        assertThat(card.getText()).contains("Lost").contains("working");
        b.waitUntil(d -> "idle".equals(d.findElement(By.id("run-status")).getAttribute("data-state")));
        assertThat(b.consoleErrors()).isEmpty();
    }

}
