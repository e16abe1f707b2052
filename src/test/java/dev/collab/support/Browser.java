package dev.collab.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real, headless Chromium from Debian's packages ({@code chromium},
 * {@code chromium-driver}), driven through its own chromedriver: the browser app's tests.
 * <p>
 * Without Chromium the browser tests are skipped with one loud line, except where
 * {@code COLLAB_BROWSER_TESTS=required} ({@code .ci/run} sets it): there they fail.
 * Paths: {@code COLLAB_CHROMIUM} and {@code COLLAB_CHROMEDRIVER}, else
 * {@code /usr/bin/chromium} and {@code /usr/bin/chromedriver}. Each browser gets a new
 * profile in a temp directory.
 */
public final class Browser implements AutoCloseable {

    private static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("COLLAB_CHROMIUM", "/usr/bin/chromium"));

    private static final Path CHROMEDRIVER = Path
        .of(System.getenv().getOrDefault("COLLAB_CHROMEDRIVER", "/usr/bin/chromedriver"));

    private static final AtomicBoolean SKIP_REPORTED = new AtomicBoolean();

    private static final Duration WAIT = Duration.ofSeconds(20);

    private final ChromeDriver driver;

    private final String base;

    private Browser(ChromeDriver driver, String base) {
        this.driver = driver;
        this.base = base;
    }

    /**
     * Skips the calling test (one loud line) when there is no Chromium, or fails it when
     * the browser tests are required.
     */
    public static void assumeAvailable() {
        boolean available = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (available) {
            return;
        }
        String why = "no Chromium for the browser tests (" + CHROMIUM + ", " + CHROMEDRIVER
                + "): apt-get install -y chromium chromium-driver";
        if ("required".equals(System.getenv("COLLAB_BROWSER_TESTS"))) {
            Assertions.fail(why + " (COLLAB_BROWSER_TESTS=required)");
        }
        if (SKIP_REPORTED.compareAndSet(false, true)) {
            System.err.println("!!!!! BROWSER TESTS SKIPPED: " + why);
        }
        Assumptions.abort(why);
    }

    /** A new browser (desktop size) on the server at {@code base}. */
    public static Browser open(String base) {
        return open(base, new Dimension(1280, 900));
    }

    public static Browser open(String base, Dimension size) {
        assumeAvailable();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        Path profile = TempDirectories.create("chromium-");
        // As root in a container: no sandbox. The network flags keep Chromium from
        // calling home (refused here, and slow to fail).
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--enable-precise-memory-info", "--user-data-dir=" + profile,
                "--window-size=" + size.width + "," + size.height);
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
            .usingAnyFreePort()
            .build();
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
        return new Browser(driver, base);
    }

    public ChromeDriver driver() {
        return driver;
    }

    public String base() {
        return base;
    }

    /** Opens an app path ({@code /p/demo}). */
    public Browser go(String path) {
        driver.get(base + path);
        return this;
    }

    /** Logs in through the login page and waits for the app to show the user. */
    public Browser login(String login, String password) {
        go("/login");
        WebElement loginInput = await(By.id("login"));
        loginInput.clear();
        loginInput.sendKeys(login);
        driver.findElement(By.id("password")).sendKeys(password);
        driver.findElement(By.cssSelector("form button[type=submit]")).click();
        waitUntil(d -> !d.findElement(By.id("whoami")).getText().isBlank());
        return this;
    }

    /** Waits for a visible element. */
    public WebElement await(By by) {
        return new WebDriverWait(driver, WAIT).until(d -> {
            List<WebElement> found = d.findElements(by);
            return found.isEmpty() || !found.get(0).isDisplayed() ? null : found.get(0);
        });
    }

    /** Waits until the condition holds (a non-null, non-false answer). */
    public <T> T waitUntil(java.util.function.Function<org.openqa.selenium.WebDriver, T> condition) {
        return new WebDriverWait(driver, WAIT).ignoring(org.openqa.selenium.StaleElementReferenceException.class)
            .until(condition);
    }

    public <T> T waitUntil(Duration within, java.util.function.Function<org.openqa.selenium.WebDriver, T> condition) {
        return new WebDriverWait(driver, within).ignoring(org.openqa.selenium.StaleElementReferenceException.class)
            .until(condition);
    }

    /** Runs a script in the page (not subject to the page's CSP). */
    public Object script(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /**
     * The browser console's entries so far (errors, CSP violations), and forgets them.
     */
    public List<String> consoleErrors() {
        List<String> errors = new ArrayList<>();
        for (LogEntry entry : driver.manage().logs().get(LogType.BROWSER)) {
            if (entry.getLevel().intValue() >= Level.SEVERE.intValue()) {
                errors.add(entry.getMessage());
            }
        }
        return errors;
    }

    /**
     * Runs axe-core (the WebJar's axe.min.js) on the current page and returns its
     * violations of impact serious or critical, as "rule: description (n nodes)" lines.
     */
    @SuppressWarnings("unchecked")
    public List<String> seriousAccessibilityViolations() {
        script(axeSource());
        Object result = driver.executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                axe.run(document, { resultTypes: ['violations'] })
                  .then(r => done(r.violations
                    .filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ' nodes: '
                      + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ') + ')')))
                  .catch(e => done(['axe failed: ' + e]));
                """);
        return (List<String>) result;
    }

    /** Asserts that axe-core finds nothing serious or critical on this page. */
    public void assertAccessible() {
        assertThat(seriousAccessibilityViolations()).as("axe-core on " + driver.getCurrentUrl()).isEmpty();
    }

    private static String axeSource() {
        try (InputStream in = Browser.class
            .getResourceAsStream("/META-INF/resources/webjars/axe-core/" + axeVersion() + "/axe.min.js")) {
            if (in == null) {
                throw new IllegalStateException("axe-core WebJar not on the test class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String axeVersion() {
        try (InputStream in = Browser.class
            .getResourceAsStream("/META-INF/maven/org.webjars.npm/axe-core/pom.properties")) {
            java.util.Properties properties = new java.util.Properties();
            properties.load(in);
            return properties.getProperty("version");
        }
        catch (IOException | NullPointerException e) {
            throw new IllegalStateException("axe-core WebJar not on the test class path", e);
        }
    }

    /**
     * Asserts {@link #assertAccessible()} in the light and in the dark colour scheme,
     * with a screenshot of each ({@code <name>-light.png}, {@code <name>-dark.png} in
     * {@code screenshots}); the system's scheme again afterwards.
     */
    public void assertAccessibleInBothSchemes(Path screenshots, String name) {
        try {
            for (String mode : List.of("light", "dark")) {
                driver.executeCdpCommand("Emulation.setEmulatedMedia",
                        Map.of("features", List.of(Map.of("name", "prefers-color-scheme", "value", mode))));
                assertAccessible();
                screenshot(screenshots.resolve(name + "-" + mode + ".png"));
            }
        }
        finally {
            driver.executeCdpCommand("Emulation.setEmulatedMedia", Map.of("features", List.of()));
        }
    }

    /**
     * At 360 px wide: no sideways scrolling (awaited), {@link #assertAccessible()} and a
     * screenshot ({@code <name>-360.png} in {@code screenshots}); the window's size again
     * afterwards.
     */
    public void assertAccessibleAt360(Path screenshots, String name) {
        Dimension desktop = driver.manage().window().getSize();
        driver.manage().window().setSize(new Dimension(360, 800));
        try {
            waitUntil(d -> (Boolean) script(
                    "return document.documentElement.scrollWidth <= window.innerWidth && window.innerWidth <= 400"));
            assertAccessible();
            screenshot(screenshots.resolve(name + "-360.png"));
        }
        finally {
            driver.manage().window().setSize(desktop);
        }
    }

    /** A screenshot of the page, as PNG, into {@code file}. */
    public void screenshot(Path file) {
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Page metrics as Chromium reports them ({@code JSHeapUsedSize}, …). */
    @SuppressWarnings("unchecked")
    public Map<String, Object> performanceMetrics() {
        driver.executeCdpCommand("Performance.enable", Map.of());
        Map<String, Object> answer = driver.executeCdpCommand("Performance.getMetrics", Map.of());
        Map<String, Object> metrics = new java.util.LinkedHashMap<>();
        for (Map<String, Object> metric : (List<Map<String, Object>>) answer.get("metrics")) {
            metrics.put((String) metric.get("name"), metric.get("value"));
        }
        return metrics;
    }

    /** Cuts the browser off the network (or back on), as a lost Wi-Fi does. */
    public void offline(boolean offline) {
        driver.executeCdpCommand("Network.enable", Map.of());
        driver.executeCdpCommand("Network.emulateNetworkConditions",
                Map.of("offline", offline, "latency", 0, "downloadThroughput", -1, "uploadThroughput", -1));
    }

    @Override
    public void close() {
        driver.quit();
    }

}
