package dev.collab.app;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import dev.collab.support.Api;
import dev.collab.support.Browser;
import dev.collab.support.Browsers;
import dev.collab.support.GitRepos;
import dev.collab.support.IntegrationTest;
import dev.collab.support.TestContexts;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real claude-code run in a real Chromium, end to end: the server runs the fake Claude
 * Code (src/test/resources/agents/claude-code) with the claude-code protocol, the
 * project's repository is a local bare one. A user creates a session and sends a message
 * in the page; the first run clones; the agent's text is rendered as Markdown; its Write
 * is a tool card and asks for permission; a viewer sees "Waiting for approval" without
 * buttons; the user clicks Allow, the real approval module answers the agent, the Write
 * really changes the file, the run finishes with its usage; the Changes view shows the
 * hunk. axe-core on the session page for both users.
 */
@IntegrationTest
@TestPropertySource(properties = { TestContexts.LONG_RUNS, TestContexts.CLAUDE_CODE, TestContexts.FAKE_CLAUDE_CODE })
class ClaudeCodeBrowserTest {

    static final Duration WAIT = Duration.ofSeconds(60);

    @RegisterExtension
    static final Browsers browsers = new Browsers();

    @Autowired
    Api api;

    Browser admin() {
        return browsers.admin(api);
    }

    Browser as(String name, String project, String role) {
        return browsers.as(name, api, api.newMember(project, role));
    }

    static void awaitLive(Browser b) {
        b.waitUntil(d -> "live".equals(d.findElement(By.id("connection")).getAttribute("data-state")));
    }

    @Test
    void aClaudeCodeRunWithAnApprovalAndItsChanges() {
        Path bare = GitRepos.bare("browser-e2e.git", Map.of("README.md", "# Greeting\n", "notes.txt", "hello\n"));
        String project = api.newProject("cc");
        assertThat(api
            .put("/api/projects/" + project, Api.json(Map.of("name", "Claude browser", "repoUrl", GitRepos.url(bare))))
            .status()).isEqualTo(200);

        Browser b = admin();
        b.go("/p/" + project);
        WebElement title = b.await(By.id("session-title"));
        title.sendKeys("Fix the greeting");
        b.driver().findElement(By.cssSelector("#new-session button[type=submit]")).click();
        b.waitUntil(d -> d.getCurrentUrl().matches(".*/p/" + project + "/s/[0-9a-f-]{36}$"));
        UUID session = UUID.fromString(b.driver().getCurrentUrl().replaceAll(".*/s/", ""));
        b.await(By.id("timeline"));
        awaitLive(b);
        WebElement box = b.await(By.id("message"));
        box.sendKeys("edit notes.txt hello, world");
        box.sendKeys(Keys.ENTER);

        // The clone, the agent's first text, its Write as a card, and the prompt.
        WebElement prompt = b.waitUntil(WAIT,
                d -> d.findElement(By.cssSelector(".run .approval button.approve")).isDisplayed()
                        ? d.findElement(By.cssSelector(".run .approval")) : null);
        WebElement run = b.driver().findElement(By.cssSelector(".run"));
        List<String> lines = run.findElements(By.cssSelector(".system-line"))
            .stream()
            .map(WebElement::getText)
            .toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).startsWith("Preparing the workspace: cloning " + GitRepos.url(bare));
        assertThat(lines.get(1)).startsWith("Workspace ready on branch collab/" + session + " at ");
        WebElement firstText = run.findElements(By.cssSelector(".agent-text")).get(0);
        assertThat(firstText.getText()).isEqualTo("I'll write notes.txt.");
        assertThat(firstText.findElement(By.cssSelector("code")).getText()).isEqualTo("notes.txt");
        assertThat(prompt.getText()).contains("Approval needed", "Write", "notes.txt");
        WebElement write = run.findElement(By.cssSelector("details.tool"));
        // The gist of its input is the file's path (the absolute one in the workspace,
        // shortened when long); it waits for the decision.
        assertThat(write.findElement(By.tagName("summary")).getText()).startsWith("Write ")
            .contains("/workspaces/")
            .endsWith("running…");
        assertThat(write.getAttribute("data-state")).isNotEqualTo("done");

        // A viewer sees the request but cannot decide it.
        Browser viewer = as("viewer", project, "viewer");
        viewer.go("/p/" + project + "/s/" + session);
        viewer.await(By.id("timeline"));
        awaitLive(viewer);
        WebElement seen = viewer.waitUntil(WAIT, d -> d.findElement(By.cssSelector(".run .approval")));
        assertThat(seen.findElements(By.tagName("button"))).isEmpty();
        assertThat(seen.findElement(By.cssSelector(".approval-waiting")).getText()).startsWith("Waiting for approval");
        viewer.assertAccessible();

        prompt.findElement(By.cssSelector("button.approve")).click();
        b.waitUntil(WAIT, d -> d.findElements(By.cssSelector(".run[data-finished-seq]")).size() == 1
                && d.findElement(By.id("session-usage")).isDisplayed());
        assertThat(prompt.findElement(By.cssSelector(".approval-status")).getText())
            .isEqualTo("Allowed by " + Api.ADMIN_LOGIN + ".");
        assertThat(write.getAttribute("data-state")).isEqualTo("done");
        write.findElement(By.tagName("summary")).click();
        assertThat(write.findElement(By.cssSelector("pre.tool-input")).getText()).contains("/notes.txt")
            .contains("\"content\": \"hello, world\\n\"");
        assertThat(write.findElement(By.cssSelector("pre.tool-output")).getText())
            .startsWith("File created successfully at: ")
            .endsWith("/notes.txt");
        List<WebElement> texts = run.findElements(By.cssSelector(".agent-text"));
        WebElement done = texts.get(texts.size() - 1);
        assertThat(done.findElement(By.cssSelector("strong")).getText()).isEqualTo("Done");
        assertThat(done.findElement(By.cssSelector("code")).getText()).isEqualTo("notes.txt");
        // The fake's result: 10 + 100 cache creation + 1,000 cache read tokens in.
        assertThat(run.findElement(By.cssSelector(".run-usage")).getText())
            .startsWith("Usage: 1,110 tokens in · 20 tokens out · $");
        assertThat(b.driver().findElement(By.id("session-usage")).getText())
            .startsWith("Session usage: 1,110 tokens in · 20 tokens out · $");
        b.assertAccessible();
        viewer.waitUntil(WAIT,
                d -> seen.findElement(By.cssSelector(".approval-status"))
                    .getText()
                    .equals("Allowed by " + Api.ADMIN_LOGIN + "."));

        // The Changes view shows the agent's edit.
        b.await(By.id("changes-link")).click();
        b.waitUntil(d -> d.getCurrentUrl().endsWith("/s/" + session + "/changes"));
        WebElement summary = b.await(By.id("diff-summary"));
        assertThat(summary.getText()).contains("1 file changed").contains("collab/" + session);
        WebElement notes = b.waitUntil(d -> d.findElement(By.cssSelector("details.diff-file[data-path='notes.txt']")));
        assertThat(notes.getAttribute("data-status")).isEqualTo("modified");
        assertThat(notes.findElement(By.cssSelector(".diff-line.add .code")).getAttribute("textContent"))
            .isEqualTo("added: hello, world");
        assertThat(notes.findElement(By.cssSelector(".diff-line.del .code")).getAttribute("textContent"))
            .isEqualTo("removed: hello");
        assertThat(b.consoleErrors()).isEmpty();
        assertThat(viewer.consoleErrors()).isEmpty();
    }

}
