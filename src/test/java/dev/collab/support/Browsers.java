package dev.collab.support;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.openqa.selenium.Dimension;

/**
 * A browser test class's browsers, by name: each opened on first use, kept for the
 * class's later tests, and all closed after the class. Before the class,
 * {@link Browser#assumeAvailable()} skips it (or fails it) without Chromium.
 * <p>
 * Used as {@code @RegisterExtension static final Browsers browsers = new Browsers();}.
 */
public final class Browsers implements BeforeAllCallback, AfterAllCallback {

    private final Map<String, Browser> open = new LinkedHashMap<>();

    @Override
    public void beforeAll(ExtensionContext context) {
        Browser.assumeAvailable();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        List<Browser> browsers = new ArrayList<>(open.values());
        open.clear();
        RuntimeException failure = null;
        for (Browser browser : browsers) {
            try {
                browser.close();
            }
            catch (RuntimeException ex) {
                if (failure == null) {
                    failure = ex;
                }
                else {
                    failure.addSuppressed(ex);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** The browser {@code name} (desktop size) on {@code base}, opened on first use. */
    public Browser get(String name, String base) {
        return open.computeIfAbsent(name, n -> Browser.open(base));
    }

    /** The browser {@code name} of {@code size} on {@code base}, opened on first use. */
    public Browser get(String name, String base, Dimension size) {
        return open.computeIfAbsent(name, n -> Browser.open(base, size));
    }

    /**
     * The browser {@code name} on {@code base}, opened and logged in as {@code login} on
     * first use only (later uses get it as it is).
     */
    public Browser loggedIn(String name, String base, String login, String password) {
        Browser browser = open.get(name);
        if (browser == null) {
            browser = Browser.open(base);
            open.put(name, browser);
            browser.login(login, password);
        }
        return browser;
    }

    /**
     * The browser {@code name} on {@code base}, opened on first use; on later uses with
     * all its cookies deleted first (logged out, its local storage kept).
     */
    public Browser withoutCookies(String name, String base) {
        Browser browser = open.get(name);
        if (browser == null) {
            return get(name, base);
        }
        browser.driver().manage().deleteAllCookies();
        return browser;
    }

    /**
     * The browser "admin" on {@code api}'s server, logged in as the first admin on first
     * use.
     */
    public Browser admin(Api api) {
        return loggedIn("admin", api.base(), Api.ADMIN_LOGIN, Api.ADMIN_PASSWORD);
    }

    /**
     * The browser {@code name} on {@code api}'s server, its cookies deleted, logged in as
     * {@code login} (a user {@link Api#newMember} made).
     */
    public Browser as(String name, Api api, String login) {
        return withoutCookies(name, api.base()).login(login, Api.passwordOf(login));
    }

    /** Closes the browser {@code name}, if open: the next use opens a new one. */
    public void close(String name) {
        Browser browser = open.remove(name);
        if (browser != null) {
            browser.close();
        }
    }

}
