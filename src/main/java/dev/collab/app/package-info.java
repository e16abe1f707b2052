/**
 * The browser app: static files in the JAR (plain ES modules and CSS under
 * {@code classpath:/static/}, no build step), served at {@code /} with the deep links
 * {@code /login}, {@code /setup}, {@code /p/{key}}, {@code /p/{key}/s/{id}} and the app's
 * other pages all answered by the one {@code index.html} (docs/user-guide.md). The app
 * uses only the public API; the strict Content-Security-Policy (no inline script or
 * style) comes from {@code access}'s filter chain. Depends on nothing else.
 */
@NullMarked
package dev.collab.app;

import org.jspecify.annotations.NullMarked;
