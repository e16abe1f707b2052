package dev.collab.app;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import dev.collab.event.EventLog;
import dev.collab.run.ApprovalGate;
import dev.collab.support.Api;
import dev.collab.support.Browser;
import dev.collab.support.Browsers;
import dev.collab.support.IntegrationTest;
import dev.collab.support.TestContexts;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Deciding approvals in the browser, against the real approval module: Allow reaches the
 * waiting request; a decision someone else made first is said in words (409
 * approval-decided) and the prompt then shows theirs; the project's approvers setting
 * (saved in the settings page) leaves a member "waiting"; a request from before the
 * events the page opens on is still offered (GET …/approvals?state=pending).
 * <p>
 * Needs the approval module (issue 15, helper C): it runs at integration.
 */
@IntegrationTest
@TestPropertySource(properties = { TestContexts.LONG_RUNS, TestContexts.SMALL_REPLAY })
class ApprovalsBrowserTest {

    @RegisterExtension
    static final Browsers browsers = new Browsers();

    @Autowired
    Api api;

    @Autowired
    ApprovalGate gate;

    @Autowired
    EventLog eventLog;

    Browser admin() {
        return browsers.admin(api);
    }

    String member(String project, String role) {
        return api.newMember(project, role);
    }

    Browser as(String name, String login) {
        return browsers.as(name, api, login);
    }

    static void open(Browser b, String project, UUID session) {
        b.go("/p/" + project + "/s/" + session);
        b.await(By.id("timeline"));
        b.waitUntil(d -> "live".equals(d.findElement(By.id("connection")).getAttribute("data-state")));
    }

    /**
     * A running run (the test agent sleeping) and a request of it waiting for a decision.
     */
    ApprovalGate.Pending request(UUID session, String tool, String command) {
        Api.Response sent = api.sendMessage(session, "sleep 100", null);
        assertThat(sent.status()).isEqualTo(202);
        UUID runId = UUID.fromString(sent.json().get("runId").asString());
        return gate.request(session, runId, tool, Api.JSON.readTree(Api.json(Map.of("command", command))));
    }

    WebElement prompt(Browser b, UUID approvalId) {
        return b.waitUntil(
                d -> d.findElement(By.cssSelector("#timeline .approval[data-approval-id='" + approvalId + "']")));
    }

    @Test
    void aMemberAllowsAndTheAgentIsAnswered() throws Exception {
        String project = api.newProject("ap-allow");
        UUID session = api.newSession(project);
        String login = member(project, "member");
        ApprovalGate.Pending pending = request(session, "Bash", "npm test");
        Browser b = as("member", login);
        open(b, project, session);
        WebElement prompt = prompt(b, pending.approvalId());
        prompt.findElement(By.cssSelector("button.approve")).click();
        b.waitUntil(d -> prompt.findElement(By.cssSelector(".approval-status"))
            .getText()
            .equals("Allowed by " + login + "."));
        ApprovalGate.Decision decision = pending.decision().get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(decision.allowed()).isTrue();
        assertThat(decision.by()).isEqualTo(login);
        assertThat(prompt.findElements(By.tagName("button"))).isEmpty();
        // The focus did not fall to <body>.
        assertThat(b.script("return document.activeElement.classList.contains('approval-status')")).isEqualTo(true);
        api.interrupt(session);
    }

    @Test
    void aDecisionSomeoneElseMadeFirstIsSaidInWords() {
        String project = api.newProject("ap-409");
        UUID session = api.newSession(project);
        String login = member(project, "member");
        ApprovalGate.Pending pending = request(session, "Bash", "rm -rf build");
        Browser b = as("late", login);
        open(b, project, session);
        WebElement prompt = prompt(b, pending.approvalId());
        // This page hears nothing more (its stream is cut and cannot come back) ...
        b.driver().executeCdpCommand("Network.enable", Map.of());
        b.driver().executeCdpCommand("Network.setBlockedURLs", Map.of("urls", List.of("*events/stream*")));
        b.offline(true);
        b.offline(false);
        try {
            b.waitUntil(d -> !"live".equals(d.findElement(By.id("connection")).getAttribute("data-state")));
            // ... while an admin decides.
            assertThat(api
                .post("/api/sessions/" + session + "/approvals/" + pending.approvalId(), "{\"decision\":\"allow\"}")
                .status()).isEqualTo(200);
            prompt.findElement(By.cssSelector("button.deny")).click();
            b.waitUntil(d -> prompt.findElement(By.cssSelector(".approval-status"))
                .getText()
                .startsWith("Already decided by someone else"));
        }
        finally {
            b.driver().executeCdpCommand("Network.setBlockedURLs", Map.of("urls", List.of()));
        }
        b.waitUntil(Duration.ofSeconds(60),
                d -> prompt.findElement(By.cssSelector(".approval-status"))
                    .getText()
                    .equals("Allowed by " + Api.ADMIN_LOGIN + "."));
        api.interrupt(session);
    }

    @Test
    void whenOnlyAdminsApproveAMemberWaitsAndAnAdminDecides() {
        String project = api.newProject("ap-admins");
        UUID session = api.newSession(project);
        String login = member(project, "member");
        Browser admin = admin();
        admin.go("/p/" + project + "/settings");
        new Select(admin.await(By.id("project-approvers"))).selectByValue("admins");
        admin.driver().findElement(By.cssSelector("#project-form button[type=submit]")).click();
        admin.waitUntil(d -> d.findElement(By.id("project-status")).getText().equals("Saved."));
        assertThat(api.get("/api/projects/" + project).json().get("approvers").asString()).isEqualTo("admins");
        admin.go("/p/" + project + "/settings");
        assertThat(new Select(admin.await(By.id("project-approvers"))).getFirstSelectedOption().getAttribute("value"))
            .isEqualTo("admins");

        ApprovalGate.Pending pending = request(session, "Bash", "ls");
        Browser b = as("member", login);
        open(b, project, session);
        WebElement waiting = prompt(b, pending.approvalId());
        assertThat(waiting.findElements(By.tagName("button"))).isEmpty();
        assertThat(waiting.getText()).contains("Waiting for approval");

        open(admin, project, session);
        prompt(admin, pending.approvalId()).findElement(By.cssSelector("button.deny")).click();
        b.waitUntil(d -> waiting.findElement(By.cssSelector(".approval-status"))
            .getText()
            .equals("Denied by " + Api.ADMIN_LOGIN + "."));
        api.interrupt(session);
    }

    @Test
    void aRequestOlderThanThePageIsStillOffered() {
        String project = api.newProject("ap-old");
        UUID session = api.newSession(project);
        ApprovalGate.Pending pending = request(session, "Write", "a.txt");
        for (int i = 0; i < 60; i++) {
            eventLog.append(session, "message",
                    Map.of("messageId", UUID.randomUUID().toString(), "text", "later " + i, "author", "someone"));
        }
        Browser b = admin();
        open(b, project, session);
        WebElement offered = b.waitUntil(d -> d.findElement(
                By.cssSelector("#pending-approvals .approval[data-approval-id='" + pending.approvalId() + "']")));
        assertThat(offered.getText()).contains("Write");
        offered.findElement(By.cssSelector("button.approve")).click();
        b.waitUntil(d -> offered.findElement(By.cssSelector(".approval-status"))
            .getText()
            .equals("Allowed by " + Api.ADMIN_LOGIN + "."));
        assertThat(pending.decision().join().allowed()).isTrue();
        b.assertAccessible();
        api.interrupt(session);
    }

}
