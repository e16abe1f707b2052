package dev.collab.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.springframework.beans.factory.annotation.Autowired;

import dev.collab.support.Api;
import dev.collab.support.Browser;
import dev.collab.support.Browsers;
import dev.collab.support.IntegrationTest;
import dev.collab.support.TempDirectories;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Changes view (/p/{key}/s/{id}/changes) on a real workspace: a local bare repository
 * made by the test is the project's repository, the session's first run clones it, the
 * test changes files in the workspace as an agent would, and the page shows GET
 * /api/sessions/{id}/diff: the summary, a section per file (added, modified, deleted,
 * binary), hunks with line numbers, Refresh; the states without a diff in words; axe-core
 * in light and dark; no sideways scrolling at 360 px.
 * <p>
 * Needs the checkout module's diff endpoint (issue 15, helper A): it runs at integration.
 */
@IntegrationTest
class ChangesBrowserTest {

    static final Path SCREENSHOTS = Path.of("target/screenshots");

    @RegisterExtension
    static final Browsers browsers = new Browsers();

    @Autowired
    Api api;

    Browser admin() {
        return browsers.admin(api);
    }

    static final Path HOME = TempDirectories.create("changes-home-");

    static void git(Path dir, String... args) {
        List<String> command = new ArrayList<>(List.of("git", "-c", "user.name=Test", "-c",
                "user.email=test@example.com", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"));
        command.addAll(List.of(args));
        try {
            ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
            builder.environment().put("HOME", HOME.toString());
            builder.environment().put("GIT_CONFIG_NOSYSTEM", "1");
            Process process = builder.start();
            String output = new String(process.getInputStream().readAllBytes());
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(process.exitValue()).as("git " + String.join(" ", args) + ": " + output).isZero();
        }
        catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A bare repository with README.md, src/App.java, old.txt and logo.bin on main. */
    static Path repository() throws IOException {
        Path bare = TempDirectories.create("changes-bare-");
        git(bare, "init", "--bare", "-q");
        Path work = TempDirectories.create("changes-work-");
        git(work, "init", "-q");
        Files.writeString(work.resolve("README.md"), "# Demo\n\nline 2\nline 3\nline 4\n");
        Files.createDirectories(work.resolve("src"));
        Files.writeString(work.resolve("src/App.java"), "class App {\n    void run() {\n    }\n}\n");
        Files.writeString(work.resolve("old.txt"), "to be removed\n");
        Files.write(work.resolve("logo.bin"), new byte[] { 0, 1, 2, 3, 0, 5 });
        git(work, "add", "-A");
        git(work, "commit", "-q", "-m", "initial");
        git(work, "push", "-q", bare.toUri().toString(), "HEAD:refs/heads/main");
        return bare;
    }

    /**
     * The session's workspace directory, as the agent sees it (its working directory).
     */
    Path workspace(UUID session) {
        assertThat(api.sendMessage(session, "env", null).status()).isEqualTo(202);
        org.awaitility.Awaitility.await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> "IDLE".equals(api.get("/api/sessions/" + session).json().get("state").asString()));
        for (JsonNode event : api.get("/api/sessions/" + session + "/events?after=0&limit=1000").json().get("items")) {
            if ("output".equals(event.get("type").asString())) {
                String text = event.get("data").get("text").asString();
                int at = text.indexOf("pwd=");
                if (at >= 0) {
                    return Path.of(text.substring(at + 4).trim());
                }
            }
        }
        throw new AssertionError("no pwd in the run's output");
    }

    String projectWithRepository(String prefix) throws IOException {
        String key = api.newProject(prefix);
        Path bare = repository();
        assertThat(api.put("/api/projects/" + key, Api.json(Map.of("name", prefix, "repoUrl", bare.toUri().toString())))
            .status()).isEqualTo(200);
        return key;
    }

    @Test
    void theDiffOfTheWorkspaceIsShownFileByFileWithLineNumbersAndRefreshes() throws IOException {
        String key = projectWithRepository("chg");
        UUID session = api.newSession(key);
        Path workspace = workspace(session);
        Files.writeString(workspace.resolve("README.md"), "# Demo\n\nline 2 changed\nline 3\nline 4\nline 5\n");
        Files.writeString(workspace.resolve("NEW.md"), "brand new\n" + "a-very-long-line-".repeat(40) + "\n");
        Files.delete(workspace.resolve("old.txt"));
        Files.write(workspace.resolve("logo.bin"), new byte[] { 0, 9, 9, 9, 0, 5, 7 });
        Files.writeString(workspace.resolve("<img src=x onerror=window.__xss=1>.txt"), "hostile name\n");

        Browser b = admin();
        b.go("/p/" + key + "/s/" + session);
        b.await(By.id("changes-link")).click();
        b.waitUntil(d -> d.getCurrentUrl().endsWith("/s/" + session + "/changes"));
        WebElement summary = b.await(By.id("diff-summary"));
        assertThat(summary.getText()).contains("5 files changed").contains("collab/" + session);

        WebElement readme = file(b, "README.md");
        assertThat(readme.getAttribute("data-status")).isEqualTo("modified");
        assertThat(readme.findElement(By.tagName("summary")).getText()).contains("modified", "README.md", "+2", "−1");
        List<WebElement> added = readme.findElements(By.cssSelector(".diff-line.add"));
        // Screen readers hear which lines were added and removed, not only colours.
        assertThat(added).extracting(l -> l.findElement(By.cssSelector(".code")).getAttribute("textContent"))
            .containsExactly("added: line 2 changed", "added: line 5");
        // New-side line numbers of the added lines.
        assertThat(added.get(0).findElements(By.cssSelector(".ln")).get(1).getText()).isEqualTo("3");
        assertThat(readme.findElement(By.cssSelector(".diff-line.del .code")).getAttribute("textContent"))
            .isEqualTo("removed: line 2");
        assertThat(readme.findElement(By.cssSelector(".diff-line.del .ln")).getText()).isEqualTo("3");

        assertThat(file(b, "NEW.md").getAttribute("data-status")).isEqualTo("added");
        assertThat(file(b, "old.txt").getAttribute("data-status")).isEqualTo("deleted");
        assertThat(file(b, "logo.bin").getText()).contains("binary").contains("Binary file");
        assertThat(file(b, "<img src=x onerror=window.__xss=1>.txt").getText()).contains("added");
        assertThat(b.script("return window.__xss")).isNull();
        assertThat((Long) b.script("return document.querySelectorAll('#diff img').length")).isZero();

        // A section closes and opens from the keyboard (a <details>).
        WebElement toggle = readme.findElement(By.tagName("summary"));
        toggle.sendKeys(org.openqa.selenium.Keys.ENTER);
        assertThat(readme.getAttribute("open")).isNull();
        toggle.sendKeys(org.openqa.selenium.Keys.ENTER);
        assertThat(readme.getAttribute("open")).isNotNull();

        // The agent goes on: Refresh shows the new state.
        Files.writeString(workspace.resolve("src/App.java"),
                "class App {\n    void run() {\n        go();\n    }\n}\n");
        b.driver().findElement(By.id("refresh-diff")).click();
        b.waitUntil(d -> !d.findElements(By.cssSelector("details.diff-file[data-path='src/App.java']")).isEmpty());
        assertThat(b.driver().findElement(By.id("diff-summary")).getText()).contains("6 files changed");

        b.assertAccessibleInBothSchemes(SCREENSHOTS, "changes");
        b.assertAccessibleAt360(SCREENSHOTS, "changes");
        assertThat(b.consoleErrors()).isEmpty();
    }

    static WebElement file(Browser b, String path) {
        return b.driver()
            .findElements(By.cssSelector("details.diff-file"))
            .stream()
            .filter(e -> path.equals(e.getAttribute("data-path")))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no section for " + path));
    }

    @Test
    void withoutARepositoryAndAfterTheEndTheStateIsSaidInWords() throws IOException {
        String plain = api.newProject("chg-none");
        UUID none = api.newSession(plain);
        Browser b = admin();
        b.go("/p/" + plain + "/s/" + none + "/changes");
        WebElement state = b.await(By.id("diff-state"));
        assertThat(state.getAttribute("data-state")).isEqualTo("no-repository");
        assertThat(state.getText()).startsWith("No repository");
        b.assertAccessible();

        String key = projectWithRepository("chg-gone");
        UUID session = api.newSession(key);
        workspace(session);
        assertThat(api.delete("/api/sessions/" + session).status()).isEqualTo(204);
        b.go("/p/" + key + "/s/" + session + "/changes");
        b.waitUntil(d -> {
            List<WebElement> found = d.findElements(By.id("diff-state"));
            if (found.isEmpty()) {
                return false;
            }
            if (!"gone".equals(found.get(0).getAttribute("data-state"))) {
                d.findElement(By.id("refresh-diff")).click(); // the removal runs in the
                                                              // background
                return false;
            }
            return true;
        });
        assertThat(b.driver().findElement(By.id("diff-state")).getText()).contains("workspace was removed");

        // Not a member: the same "Not found" as a missing session.
        String login = "outsider-" + Long.toString(System.nanoTime(), 36);
        api.createUser(login, "password-of-" + login, false);
        Browser outsider = browsers.withoutCookies("outsider", api.base()).login(login, "password-of-" + login);
        outsider.go("/p/" + key + "/s/" + session + "/changes");
        assertThat(outsider.await(By.tagName("h1")).getText()).isEqualTo("Not found");
    }

}
