package dev.collab.app;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The browser app as HTTP sees it: every deep link answers the app's page with the strict
 * CSP, its files are served (gzipped, revalidated), everything else stays a 404 problem;
 * and the files themselves never build markup from strings and stay small.
 */
@IntegrationTest
class AppPagesTest {

    static final Path STATIC = Path.of("src/main/resources/static");

    @Autowired
    Api api;

    @Test
    void everyDeepLinkIsTheAppWithTheStrictCsp() {
        Api pages = Api.withoutContract(api.base()).anonymous();
        for (String path : List.of("/", "/login", "/setup?token=x", "/tokens", "/users", "/p/demo", "/p/demo/settings",
                "/p/demo/s/6f1c9a52-3f4e-4b8e-9a55-0d2f4b1c2d3e",
                "/p/demo/s/6f1c9a52-3f4e-4b8e-9a55-0d2f4b1c2d3e/changes")) {
            Api.Response page = pages.get(path);
            assertThat(page.status()).as(path).isEqualTo(200);
            assertThat(page.contentType()).as(path).startsWith("text/html");
            assertThat(page.text()).as(path).contains("<script type=\"module\" src=\"/app/main.js\"></script>");
            assertThat(page.header("Content-Security-Policy")).as(path)
                .hasValueSatisfying(csp -> assertThat(csp).contains("script-src 'self'")
                    .contains("style-src 'self'")
                    .doesNotContain("unsafe"));
            assertThat(page.header("Cache-Control")).as(path)
                .hasValueSatisfying(c -> assertThat(c).contains("no-cache"));
        }
        // Not a page of the app: the problem 404 as before.
        Api.Response unknown = pages.get("/nope");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.contentType()).startsWith("application/problem+json");
        assertThat(pages.get("/p/demo/s/x/y").status()).isEqualTo(404);
    }

    @Test
    void filesAreServedGzippedAndRevalidated() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        HttpResponse<byte[]> response = client.send(HttpRequest.newBuilder(URI.create(api.base() + "/app/main.js"))
            .header("Accept-Encoding", "gzip")
            .build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type"))
            .hasValueSatisfying(type -> assertThat(type).matches("(text|application)/javascript.*"));
        assertThat(response.headers().firstValue("Content-Encoding")).hasValue("gzip");
        String lastModified = response.headers().firstValue("Last-Modified").orElseThrow();
        HttpResponse<byte[]> again = client.send(HttpRequest.newBuilder(URI.create(api.base() + "/app/main.js"))
            .header("If-Modified-Since", lastModified)
            .build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(client
            .send(HttpRequest.newBuilder(URI.create(api.base() + "/app/app.css")).build(),
                    HttpResponse.BodyHandlers.discarding())
            .headers()
            .firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("text/css"));
        // Nothing but the app's own files.
        assertThat(api.anonymous().get("/app/../application.yaml").status()).isIn(400, 404);
        assertThat(Api.withoutContract(api.base()).anonymous().get("/app/nope.js").status()).isEqualTo(404);
    }

    /**
     * Untrusted text (titles, names, messages, agent output) only ever becomes text: no
     * module builds markup from a string, and no page carries inline script or style.
     */
    @Test
    void noFileBuildsMarkupFromStringsOrInlinesScript() throws IOException {
        try (Stream<Path> files = Files.walk(STATIC)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                String text = Files.readString(file);
                String name = file.toString();
                if (name.endsWith(".js")) {
                    assertThat(text).as(name)
                        .doesNotContain(".innerHTML")
                        .doesNotContain(".outerHTML")
                        .doesNotContain("insertAdjacentHTML")
                        .doesNotContain("document.write")
                        .doesNotContain("eval(")
                        .doesNotContain("new Function(")
                        .doesNotContain("createContextualFragment");
                }
                if (name.endsWith(".html")) {
                    assertThat(text).as(name)
                        .doesNotContainPattern("<script(?![^>]*\\ssrc=)")
                        .doesNotContainPattern("\\son[a-z]+=")
                        .doesNotContain("<style")
                        .doesNotContain("style=");
                }
            }
        }
    }

    /**
     * The budget: the app's first load is at most 200 KB of JS and CSS, gzipped.
     */
    @Test
    void allScriptsAndStylesTogetherAreUnder200KbGzipped() throws IOException {
        long total = 0;
        try (Stream<Path> files = Files.walk(STATIC)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".js") || f.toString().endsWith(".css"))
                .toList()) {
                total += gzipped(Files.readAllBytes(file));
            }
        }
        System.out.println("browser app: all JS and CSS, gzipped: " + total + " bytes");
        assertThat(total).isLessThanOrEqualTo(200 * 1024);
    }

    static int gzipped(byte[] bytes) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
                gzip.write(bytes);
            }
            return out.size();
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

}
