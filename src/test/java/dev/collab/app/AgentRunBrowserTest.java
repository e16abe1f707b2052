package dev.collab.app;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
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
 * A real agent run's events in the session view, in a real Chromium: agent text as
 * Markdown (hostile Markdown stays inert), tool cards paired by call id, collapsed,
 * errors marked, a call without a result; workspace lines; token usage per run and per
 * session; approval prompts with Allow / Deny for a member and "waiting" for a viewer,
 * updated by the decision; axe-core in light and dark, and 360 px. The events are
 * appended through the server's real {@link EventLog}: the same events the runner and the
 * approval module write.
 */
@IntegrationTest
class AgentRunBrowserTest {

    static final Path SCREENSHOTS = Path.of("target/screenshots");

    @RegisterExtension
    static final Browsers browsers = new Browsers();

    @Autowired
    Api api;

    @Autowired
    EventLog eventLog;

    Browser admin() {
        return browsers.admin(api);
    }

    /**
     * The browser {@code name}, logged in as a new user with {@code role} in the project.
     */
    Browser as(String name, String project, String role) {
        return browsers.as(name, api, api.newMember(project, role));
    }

    static void open(Browser b, String project, UUID session) {
        b.go("/p/" + project + "/s/" + session);
        b.await(By.id("timeline"));
        b.waitUntil(d -> "live".equals(d.findElement(By.id("connection")).getAttribute("data-state")));
    }

    String started(UUID session) {
        String runId = UUID.randomUUID().toString();
        eventLog.append(session, "run.started", Map.of("runId", runId, "messageId", "m", "by", Api.ADMIN_LOGIN));
        return runId;
    }

    long event(UUID session, String type, Map<String, ?> data) {
        return eventLog.append(session, type, data).seq();
    }

    long finished(UUID session, String runId) {
        return event(session, "run.finished", Map.of("runId", runId, "status", "succeeded", "exitCode", 0));
    }

    static Map<String, Object> data(Object... pairs) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put((String) pairs[i], pairs[i + 1]);
        }
        return map;
    }

    @Test
    void agentTextIsMarkdownAndHostileMarkdownStaysText() {
        String project = api.newProject("md");
        UUID session = api.newSession(project);
        String runId = started(session);
        String markdown = """
                # Plan
                I will **fix** the *login* bug in `src/Login.java`:

                1. read the code
                2. change it
                   - carefully

                > quoted

                ```java
                class A { String s = "<b>not bold</b>"; }
                ```

                | file | change |
                |---|---|
                | a.txt | +1 |

                See [the docs](https://example.com/docs) or <https://example.org>.
                [click](javascript:window.__xss=1) [data](data:text/html,<script>window.__xss=1</script>)
                [spaced]( javascript:window.__xss=1) [upper](JAVASCRIPT:window.__xss=1)
                <script>window.__xss=1</script> <img src=x onerror="window.__xss=1">
                <a href="javascript:window.__xss=1">raw link</a> <iframe src="javascript:window.__xss=1"></iframe>
                """;
        event(session, "agent.text", data("runId", runId, "text", markdown));
        // Deep nesting and pathological delimiters: shown, capped, quickly.
        String deep = ">".repeat(5000) + " deep\n\n" + "- ".repeat(3000) + "x\n\n" + "*a ".repeat(5000) + "\n\n"
                + "[".repeat(20000) + "]" + "\n\n" + "`` ` ".repeat(3000);
        event(session, "agent.text", data("runId", runId, "text", deep));
        long end = finished(session, runId);

        Browser b = admin();
        open(b, project, session);
        b.waitUntil(d -> d.findElements(By.cssSelector("[data-finished-seq='" + end + "']")).size() == 1);
        WebElement first = b.driver().findElements(By.cssSelector(".run .agent-text")).get(0);
        assertThat(first.findElement(By.cssSelector("h3")).getText()).isEqualTo("Plan");
        assertThat(first.findElement(By.cssSelector("strong")).getText()).isEqualTo("fix");
        assertThat(first.findElement(By.cssSelector("em")).getText()).isEqualTo("login");
        assertThat(first.findElement(By.cssSelector("p code")).getText()).isEqualTo("src/Login.java");
        assertThat(first.findElements(By.cssSelector("ol > li"))).hasSize(2);
        assertThat(first.findElement(By.cssSelector("ol > li ul > li")).getText()).isEqualTo("carefully");
        assertThat(first.findElement(By.cssSelector("blockquote")).getText()).isEqualTo("quoted");
        assertThat(first.findElement(By.cssSelector("pre code.language-java")).getText())
            .isEqualTo("class A { String s = \"<b>not bold</b>\"; }");
        assertThat(first.findElements(By.cssSelector("table td"))).hasSize(2);

        // Only http(s) links became links, opened apart from the app.
        List<WebElement> links = first.findElements(By.cssSelector("a"));
        assertThat(links).extracting(a -> a.getAttribute("href"))
            .containsExactly("https://example.com/docs", "https://example.org/");
        for (WebElement link : links) {
            assertThat(link.getAttribute("rel")).isEqualTo("noopener noreferrer nofollow");
            assertThat(link.getAttribute("target")).isEqualTo("_blank");
        }
        // The rest is the text it was: nothing made from it, nothing ran.
        String text = first.getText();
        assertThat(text).contains("[click](javascript:window.__xss=1)", "<script>window.__xss=1</script>",
                "<img src=x onerror=\"window.__xss=1\">", "<a href=\"javascript:window.__xss=1\">raw link</a>",
                "[upper](JAVASCRIPT:window.__xss=1)");
        assertThat((Long) b.script(
                "return document.querySelectorAll('#timeline script, #timeline img, #timeline iframe, #timeline [onerror],"
                        + " #timeline b').length"))
            .isZero();
        assertThat((Long) b.script("return document.querySelectorAll('#timeline a[href^=\"javascript\"],"
                + " #timeline a[href^=\"data\"], #timeline a[href^=\"JAVASCRIPT\"]').length"))
            .isZero();
        assertThat(b.script("return window.__xss")).isNull();

        WebElement second = b.driver().findElements(By.cssSelector(".run .agent-text")).get(1);
        assertThat((Long) b.script("return arguments[0].querySelectorAll('blockquote blockquote blockquote blockquote "
                + "blockquote blockquote blockquote blockquote blockquote').length", second))
            .isZero();
        assertThat(second.getText()).contains("deep").contains("[[[[");
        assertThat(b.consoleErrors()).isEmpty();
    }

    @Test
    void bareUrlLookalikesAreTriedABoundedNumberOfTimesPerText() {
        String project = api.newProject("urls");
        UUID session = api.newSession(project);
        String runId = started(session);
        // Each "http://[" is a 2 KB candidate that is no URL: tried for every one of
        // them, 64 KB of
        // it took seconds of the page's only thread. Past the first hundred they are
        // text.
        String hostile = "(http://[)".repeat(6000) + "\n\nhttps://late.example.com/x";
        event(session, "agent.text", data("runId", runId, "text", hostile));
        event(session, "agent.text", data("runId", runId, "text", "Then https://next.example.com/y works."));
        long end = finished(session, runId);

        Browser b = admin();
        open(b, project, session);
        b.waitUntil(d -> d.findElements(By.cssSelector("[data-finished-seq='" + end + "']")).size() == 1);
        List<WebElement> texts = b.driver().findElements(By.cssSelector(".run .agent-text"));
        assertThat(texts).hasSize(2);
        assertThat(texts.get(0).getText()).contains("(http://[)(http://[)", "https://late.example.com/x");
        assertThat(texts.get(0).findElements(By.tagName("a"))).isEmpty();
        // The budget is per text: the next one links as usual.
        assertThat(texts.get(1).findElements(By.tagName("a"))).extracting(a -> a.getAttribute("href"))
            .containsExactly("https://next.example.com/y");
        assertThat(b.consoleErrors()).isEmpty();
    }

    @Test
    void aRunOfManyLargeToolResultsKeepsItsNewestOnesWithinACharacterBudget() {
        String project = api.newProject("big");
        UUID session = api.newSession(project);
        String runId = started(session);
        // 40 results at the server's 64 KB cap: 2.6 MB of text, more than a run card
        // keeps.
        for (int i = 0; i < 40; i++) {
            event(session, "tool.call",
                    data("runId", runId, "callId", "c" + i, "name", "Read", "input", data("file_path", "f" + i)));
            event(session, "tool.result",
                    data("runId", runId, "callId", "c" + i, "output", "r".repeat(65536), "isError", false));
        }
        long end = finished(session, runId);

        Browser b = admin();
        open(b, project, session);
        b.waitUntil(d -> d.findElements(By.cssSelector("[data-finished-seq='" + end + "']")).size() == 1);
        WebElement run = b.driver().findElement(By.cssSelector(".run[data-run-id='" + runId + "']"));
        List<WebElement> cards = run.findElements(By.cssSelector("details.tool"));
        assertThat(cards).hasSizeBetween(20, 31);
        assertThat(cards.get(cards.size() - 1).getAttribute("data-call-id")).isEqualTo("c39");
        assertThat(cards.get(cards.size() - 1).getAttribute("data-state")).isEqualTo("done");
        assertThat(run.findElements(By.cssSelector("[data-call-id='c0']"))).isEmpty();
        assertThat(run.findElement(By.cssSelector(".output-trimmed")).getText())
            .isEqualTo((40 - cards.size()) + " earlier items of this run are not kept on this page.");
        assertThat(b.consoleErrors()).isEmpty();
    }

    @Test
    void toolCallsArePairedCollapsedAndErrorsAreMarked() {
        String project = api.newProject("tools");
        UUID session = api.newSession(project);
        String runId = started(session);
        event(session, "workspace.preparing",
                data("runId", runId, "repoUrl", "https://git.example.com/acme/web.git", "branch", "main"));
        event(session, "workspace.ready",
                data("runId", runId, "baseCommit", "abc1234def5678", "branch", "collab/" + session));
        event(session, "agent.text", data("runId", runId, "text", "Running the tests."));
        event(session, "tool.call", data("runId", runId, "callId", "c1", "name", "Bash", "input",
                data("command", "npm test", "description", "Run the tests")));
        event(session, "tool.call",
                data("runId", runId, "callId", "c2", "name", "Read", "input", data("file_path", "/src/missing.js")));
        event(session, "tool.result",
                data("runId", runId, "callId", "c2", "output", "ENOENT: no such file", "isError", true));
        event(session, "tool.result",
                data("runId", runId, "callId", "c1", "output", "Tests: 12 passed\n<b>ok</b>", "isError", false));
        event(session, "tool.call",
                data("runId", runId, "callId", "c3", "name", "Grep", "input", data("pattern", "TODO", "path", "src")));
        event(session, "tool.result", data("runId", runId, "callId", "c3", "output", "x".repeat(65536), "isError",
                false, "truncated", true, "outputChars", 200000));
        event(session, "tool.call", data("runId", runId, "callId", "c4", "name", "Edit", "input",
                data("file_path", "src/Login.java", "old_string", "a", "new_string", "b")));
        // What the server cut is said so.
        event(session, "tool.call", data("runId", runId, "callId", "c5", "name", "Write", "input",
                data("file_path", "big.txt", "content", "y".repeat(1024)), "truncated", true, "inputChars", 300000));
        event(session, "tool.result", data("runId", runId, "callId", "c5", "output", "written", "isError", false));
        event(session, "agent.text", data("runId", runId, "text", "The start", "truncated", true, "textChars", 150000));
        event(session, "usage", data("runId", runId, "inputTokens", 1200, "outputTokens", 300, "costUsd", 0.0125));
        long last = event(session, "usage",
                data("runId", runId, "inputTokens", 800, "outputTokens", 100, "costUsd", null));

        Browser b = admin();
        open(b, project, session);
        b.waitUntil(d -> d.findElements(By.cssSelector(".run [data-call-id='c4']")).size() == 1
                && d.findElement(By.id("session-usage")).isDisplayed());
        WebElement run = b.driver().findElement(By.cssSelector(".run[data-run-id='" + runId + "']"));
        assertThat(run.findElements(By.cssSelector(".system-line"))).extracting(WebElement::getText)
            .containsExactly("Preparing the workspace: cloning https://git.example.com/acme/web.git (main)…",
                    "Workspace ready on branch collab/" + session + " at abc1234.");

        WebElement bash = run.findElement(By.cssSelector("details.tool[data-call-id='c1']"));
        assertThat(bash.getAttribute("open")).isNull();
        WebElement summary = bash.findElement(By.tagName("summary"));
        assertThat(summary.getText()).contains("Bash").contains("npm test").contains("done");
        assertThat(bash.getAttribute("data-state")).isEqualTo("done");
        summary.click();
        assertThat(bash.getAttribute("open")).isNotNull();
        assertThat(bash.findElement(By.cssSelector("pre.tool-input")).getText()).contains("\"command\": \"npm test\"");
        assertThat(bash.findElement(By.cssSelector("pre.tool-output")).getText())
            .isEqualTo("Tests: 12 passed\n<b>ok</b>");
        // One card per call: the result is in its call's card, whatever the order.
        assertThat(run.findElements(By.cssSelector("details.tool"))).hasSize(5);
        WebElement write = run.findElement(By.cssSelector("details.tool[data-call-id='c5']"));
        write.findElement(By.tagName("summary")).click();
        assertThat(write.findElement(By.cssSelector(".tool-truncated")).getText())
            .isEqualTo("Input shortened: long values were cut (300,000 characters in all).");
        assertThat(run.findElements(By.cssSelector(".agent-text")).get(1).getText())
            .isEqualTo("The start\nThe server kept only the beginning of this text (150,000 characters in all).");

        WebElement read = run.findElement(By.cssSelector("details.tool[data-call-id='c2']"));
        assertThat(read.getAttribute("data-state")).isEqualTo("error");
        assertThat(read.findElement(By.tagName("summary")).getText()).contains("/src/missing.js").contains("error");
        read.findElement(By.tagName("summary")).click();
        assertThat(read.findElement(By.cssSelector(".tool-result .tool-label")).getText())
            .isEqualToIgnoringCase("Error output");

        WebElement grep = run.findElement(By.cssSelector("details.tool[data-call-id='c3']"));
        grep.findElement(By.tagName("summary")).click();
        assertThat(grep.findElement(By.cssSelector(".tool-truncated")).getText())
            .isEqualTo("Output truncated: the first 65,536 of 200,000 characters are shown.");

        WebElement edit = run.findElement(By.cssSelector("details.tool[data-call-id='c4']"));
        assertThat(edit.findElement(By.cssSelector(".tool-state")).getText()).isEqualTo("running…");

        assertThat(run.findElement(By.cssSelector(".run-usage")).getText())
            .isEqualTo("Usage: 2,000 tokens in · 400 tokens out · $0.0125");
        assertThat(b.driver().findElement(By.id("session-usage")).getText())
            .isEqualTo("Session usage: 2,000 tokens in · 400 tokens out · $0.0125");
        assertThat(last).isPositive();

        // The run ends: the call without a result will not get one.
        long end = finished(session, runId);
        b.waitUntil(d -> d.findElements(By.cssSelector("[data-finished-seq='" + end + "']")).size() == 1);
        assertThat(edit.findElement(By.cssSelector(".tool-state")).getText()).isEqualTo("no result (the run ended)");
        assertThat(edit.getAttribute("data-state")).isEqualTo("no-result");

        // A second run: its own usage, and the session's sum.
        String second = started(session);
        event(session, "usage", data("runId", second, "inputTokens", 1000, "outputTokens", 600, "costUsd", 1.5));
        long secondEnd = finished(session, second);
        b.waitUntil(d -> d.findElements(By.cssSelector("[data-finished-seq='" + secondEnd + "']")).size() == 1);
        assertThat(b.driver().findElement(By.cssSelector(".run[data-run-id='" + second + "'] .run-usage")).getText())
            .isEqualTo("Usage: 1,000 tokens in · 600 tokens out · $1.50");
        b.waitUntil(d -> d.findElement(By.id("session-usage"))
            .getText()
            .equals("Session usage: 3,000 tokens in · 1,000 tokens out · $1.51"));
        assertThat(b.consoleErrors()).isEmpty();
    }

    @Test
    void anApprovalPromptHasButtonsForAMemberWaitingForAViewerAndShowsTheDecision() {
        String project = api.newProject("appr");
        UUID session = api.newSession(project);
        String runId = started(session);
        event(session, "tool.call",
                data("runId", runId, "callId", "c1", "name", "Bash", "input", data("command", "rm -rf build")));
        String first = UUID.randomUUID().toString();
        event(session, "approval.requested",
                data("approvalId", first, "runId", runId, "tool", "Bash", "input", data("command", "rm -rf build")));

        Browser member = as("member", project, "member");
        open(member, project, session);
        WebElement prompt = member
            .waitUntil(d -> d.findElement(By.cssSelector(".run .approval[data-approval-id='" + first + "']")));
        assertThat(prompt.getText()).contains("Approval needed", "Bash", "\"command\": \"rm -rf build\"");
        assertThat(prompt.findElement(By.cssSelector("button.approve")).getText()).isEqualTo("Allow");
        assertThat(prompt.findElement(By.cssSelector("button.deny")).getText()).isEqualTo("Deny");
        assertThat(prompt.getAttribute("role")).isEqualTo("group");
        // Above the timeline: what waits, with a way to it.
        WebElement pending = member.driver().findElement(By.id("pending-approvals"));
        assertThat(pending.getText()).contains("Waiting for approval: Bash");
        pending.findElement(By.cssSelector("button.show-approval")).click();
        assertThat(member.script("return document.activeElement.classList.contains('approve')")).isEqualTo(true);

        Browser viewer = as("viewer", project, "viewer");
        open(viewer, project, session);
        WebElement seen = viewer
            .waitUntil(d -> d.findElement(By.cssSelector(".approval[data-approval-id='" + first + "']")));
        assertThat(seen.findElements(By.tagName("button"))).isEmpty();
        assertThat(seen.findElement(By.cssSelector(".approval-waiting")).getText()).startsWith("Waiting for approval");

        // A new request while the page is open is announced.
        String second = UUID.randomUUID().toString();
        event(session, "approval.requested",
                data("approvalId", second, "runId", runId, "tool", "Write", "input", data("file_path", "a.txt")));
        viewer.waitUntil(d -> d.findElement(By.id("approvals-announce"))
            .getAttribute("textContent")
            .startsWith("Approval needed: the agent asks to use Write"));

        member.assertAccessible();
        member.driver()
            .executeCdpCommand("Emulation.setEmulatedMedia",
                    Map.of("features", List.of(Map.of("name", "prefers-color-scheme", "value", "dark"))));
        try {
            member.assertAccessible();
            member.screenshot(SCREENSHOTS.resolve("session-approval-dark.png"));
        }
        finally {
            member.driver().executeCdpCommand("Emulation.setEmulatedMedia", Map.of("features", List.of()));
        }

        // Decisions: by a person, by the timeout, and by the end of the run.
        event(session, "approval.decided",
                data("approvalId", first, "runId", runId, "decision", "allow", "by", "ada", "reason", null));
        String third = UUID.randomUUID().toString();
        event(session, "approval.requested",
                data("approvalId", third, "runId", runId, "tool", "Bash", "input", data("command", "ls")));
        event(session, "approval.decided",
                data("approvalId", second, "runId", runId, "decision", "deny", "by", null, "reason", "timeout"));
        for (Browser b : List.of(member, viewer)) {
            b.waitUntil(
                    d -> d.findElement(By.cssSelector(".approval[data-approval-id='" + first + "'] .approval-status"))
                        .getText()
                        .equals("Allowed by ada."));
            b.waitUntil(
                    d -> d.findElement(By.cssSelector(".approval[data-approval-id='" + second + "'] .approval-status"))
                        .getText()
                        .equals("Denied: nobody decided in time."));
        }
        assertThat(member.driver().findElements(By.cssSelector(".approval[data-approval-id='" + first + "'] button")))
            .isEmpty();
        event(session, "approval.decided",
                data("approvalId", third, "runId", runId, "decision", "deny", "by", null, "reason", "run-ended"));
        long end = finished(session, runId);
        member.waitUntil(d -> d.findElements(By.cssSelector("[data-finished-seq='" + end + "']")).size() == 1);
        assertThat(member.driver()
            .findElement(By.cssSelector(".approval[data-approval-id='" + third + "'] .approval-status"))
            .getText()).isEqualTo("Denied: the run ended before a decision.");
        member.waitUntil(d -> !d.findElement(By.id("pending-approvals")).isDisplayed());
        assertThat(member.consoleErrors()).isEmpty();
        assertThat(viewer.consoleErrors()).isEmpty();
    }

    @Test
    void aSessionWithToolCardsAndPromptsIsAccessibleInLightAndDarkAndFitsA360PixelWindow() {
        String project = api.newProject("a11y");
        UUID session = api.newSession(project);
        String runId = started(session);
        String path = "/very/long/path/" + "segment/".repeat(30) + "File.java";
        event(session, "agent.text",
                data("runId", runId, "text",
                        "## Changes\nA long word: " + "x".repeat(300) + "\n\n```\n" + "y".repeat(400)
                                + "\n```\n\n| a | b | c | d | e | f |\n|---|---|---|---|---|---|\n"
                                + "| 1 | 2 | 3 | 4 | 5 | " + "z".repeat(200) + " |"));
        event(session, "tool.call",
                data("runId", runId, "callId", "c1", "name", "Read", "input", data("file_path", path)));
        event(session, "tool.result",
                data("runId", runId, "callId", "c1", "output", "w".repeat(2000), "isError", false));
        event(session, "tool.call",
                data("runId", runId, "callId", "c2", "name", "Bash", "input", data("command", "false")));
        event(session, "tool.result", data("runId", runId, "callId", "c2", "output", "exit 1", "isError", true));
        event(session, "approval.requested", data("approvalId", UUID.randomUUID().toString(), "runId", runId, "tool",
                "Bash", "input", data("command", "rm " + path)));
        long last = event(session, "usage",
                data("runId", runId, "inputTokens", 10, "outputTokens", 20, "costUsd", 0.001));
        Browser b = admin();
        open(b, project, session);
        b.waitUntil(d -> d.findElements(By.cssSelector("#timeline .approval button.approve")).size() == 1
                && d.findElement(By.id("session-usage")).isDisplayed());
        assertThat(last).isPositive();
        // Opened, so that the inside of the cards is checked too.
        for (WebElement summary : b.driver().findElements(By.cssSelector("details.tool > summary"))) {
            summary.click();
        }
        b.assertAccessibleInBothSchemes(SCREENSHOTS, "session-tools");
        b.assertAccessibleAt360(SCREENSHOTS, "session-tools");
    }

}
