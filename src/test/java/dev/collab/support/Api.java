package dev.collab.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A small real-HTTP client for tests: what a browser or curl would send, nothing mocked.
 * Every response is checked against the server's own OpenAPI document
 * ({@link ContractValidator}): a response that breaks it fails the test. Requests are
 * checked when the server accepted them, and always on an Api from
 * {@link #checkingRequests()} (for tests that mean to send valid ones).
 */
public final class Api {

    public static final JsonMapper JSON = JsonMapper.builder().build();

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /**
     * The first server admin every test server starts with (CollabTestInitializer,
     * ServerProcess).
     */
    public static final String ADMIN_LOGIN = "admin";

    public static final String ADMIN_PASSWORD = "test-admin-password";

    /**
     * A personal access token of the first admin per server (base URL), made once on
     * first use.
     */
    private static final Map<String, String> ADMIN_TOKENS = new java.util.concurrent.ConcurrentHashMap<>();

    /** How a client authenticates its {@code /api/**} requests. */
    private enum Auth {

        ADMIN, TOKEN, COOKIE, NONE

    }

    private final String base;

    private final boolean checkRequests;

    private final boolean checkContract;

    private final Auth auth;

    private final String token;

    private final HttpClient client;

    private final java.net.CookieManager cookies;

    public Api(int port) {
        this("http://localhost:" + port);
    }

    /**
     * A client of the server at {@code base}, authenticated as its first admin (a bearer
     * token).
     */
    public Api(String base) {
        this(base, false, true, Auth.ADMIN, null, null);
    }

    private Api(String base, boolean checkRequests, boolean checkContract, Auth auth, String token,
            java.net.CookieManager cookies) {
        this.base = base;
        this.checkRequests = checkRequests;
        this.checkContract = checkContract;
        this.auth = auth;
        this.token = token;
        this.cookies = cookies;
        this.client = cookies == null ? CLIENT
                : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).cookieHandler(cookies).build();
    }

    /**
     * The same client, failing the test also when a request it sends breaks the document.
     */
    public Api checkingRequests() {
        return new Api(base, true, checkContract, auth, token, cookies);
    }

    /**
     * A client that holds nothing to the document, for a server that has none to give on
     * purpose (starting, failing to start, stopped); every other client fails when it
     * cannot get it.
     */
    public static Api withoutContract(String base) {
        return new Api(base, false, false, Auth.ADMIN, null, null);
    }

    /** The same server without credentials. */
    public Api anonymous() {
        return new Api(base, checkRequests, checkContract, Auth.NONE, null, null);
    }

    /** The same server with this personal access token. */
    public Api withToken(String token) {
        return new Api(base, checkRequests, checkContract, Auth.TOKEN, token, null);
    }

    /**
     * A browser-like client of the same server: it logs in with login and password, keeps
     * the cookies, and sends {@code X-XSRF-TOKEN} (the XSRF-TOKEN cookie) with every
     * write, as the browser app does. Fails the test if the login fails.
     */
    public Api as(String login, String password) {
        Api browser = browser();
        Response loggedIn = browser.post("/api/auth/login", json(Map.of("login", login, "password", password)));
        if (loggedIn.status() != 200) {
            throw new IllegalStateException("Cannot log in as " + login + ": " + loggedIn);
        }
        return browser;
    }

    /** A browser-like client (cookies, X-XSRF-TOKEN on writes) that has not logged in. */
    public Api browser() {
        java.net.CookieManager jar = new java.net.CookieManager(null, java.net.CookiePolicy.ACCEPT_ALL);
        return new Api(base, checkRequests, checkContract, Auth.COOKIE, null, jar);
    }

    /** A cookie this browser-like client holds, if any. */
    public Optional<String> cookie(String name) {
        if (cookies == null) {
            return Optional.empty();
        }
        return cookies.getCookieStore()
            .get(URI.create(base))
            .stream()
            .filter(c -> c.getName().equals(name))
            .map(java.net.HttpCookie::getValue)
            .findFirst();
    }

    /**
     * The same cookies, sent to another server (another replica behind the same load
     * balancer).
     */
    public Api withCookiesOn(Api other) {
        java.net.CookieManager jar = new java.net.CookieManager(null, java.net.CookiePolicy.ACCEPT_ALL);
        URI target = URI.create(other.base());
        for (java.net.HttpCookie cookie : cookies.getCookieStore().get(URI.create(base))) {
            java.net.HttpCookie copy = new java.net.HttpCookie(cookie.getName(), cookie.getValue());
            copy.setPath("/");
            copy.setVersion(0);
            jar.getCookieStore().add(target, copy);
        }
        return new Api(other.base(), checkRequests, checkContract, Auth.COOKIE, null, jar);
    }

    /**
     * Creates a user through the first admin (a server admin when {@code admin}); returns
     * its id.
     */
    public java.util.UUID createUser(String login, String password, boolean admin) {
        Response created = new Api(base).post("/api/users",
                json(Map.of("login", login, "displayName", login, "password", password, "admin", admin)));
        if (created.status() != 201) {
            throw new IllegalStateException("Cannot create user " + login + ": " + created);
        }
        return java.util.UUID.fromString(created.json().get("id").asString());
    }

    /**
     * The {@code Authorization} header value the default (first admin) client sends to
     * the server at {@code base}; made (login, then {@code POST /api/tokens}) once per
     * server.
     */
    public static String adminAuthorization(String base) {
        String token = ADMIN_TOKENS.computeIfAbsent(base, Api::newAdminToken);
        return token.isEmpty() ? null : "Bearer " + token;
    }

    /**
     * Forgets the first admin's token of a server that stopped (a later one may get its
     * port).
     */
    public static void forgetServer(String base) {
        ADMIN_TOKENS.remove(base);
    }

    private static String newAdminToken(String base) {
        Api browser = new Api(base, false, false, Auth.NONE, null, null).browser();
        Response login = browser.post("/api/auth/login",
                json(Map.of("login", ADMIN_LOGIN, "password", ADMIN_PASSWORD)));
        if (login.status() == 404) {
            // No API on this port (the management port): nothing to authenticate.
            return "";
        }
        if (login.status() != 200) {
            throw new IllegalStateException("Cannot log in as the first admin on " + base + ": " + login);
        }
        Api admin = browser;
        Response created = admin.post("/api/tokens", json(Map.of("name", "tests")));
        if (created.status() != 201) {
            throw new IllegalStateException("Cannot create the admin's test token on " + base + ": " + created);
        }
        return created.json().get("token").asString();
    }

    public String base() {
        return base;
    }

    public Response get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    public Response delete(String path) {
        return send(HttpRequest.newBuilder(uri(path)).DELETE());
    }

    public Response put(String path, String json) {
        return send(HttpRequest.newBuilder(uri(path))
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(json)));
    }

    public Response post(String path, String json) {
        return send(HttpRequest.newBuilder(uri(path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    public Response send(HttpRequest.Builder request) {
        try {
            HttpRequest built = authenticated(request.timeout(Duration.ofSeconds(30)).build(), false);
            HttpResponse<String> response = client.send(built, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 401 && auth == Auth.ADMIN && isApi(built)
                    && request.build().headers().firstValue("Authorization").isEmpty()) {
                // A new server on the port of one that stopped (a new database): a new
                // token.
                forgetServer(base);
                built = authenticated(request.build(), true);
                response = client.send(built, HttpResponse.BodyHandlers.ofString());
            }
            check(built, response);
            return new Response(response);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Like {@link #send}, for a stream that does not end by itself: its body is read up
     * to and including the first {@code until} (or its end), then the connection is
     * closed.
     */
    public Response sendUntil(HttpRequest.Builder request, String until) {
        try {
            HttpRequest built = authenticated(request.build(), false);
            HttpResponse<java.io.InputStream> streamed = client.send(built, HttpResponse.BodyHandlers.ofInputStream());
            StringBuilder text = new StringBuilder();
            try (var body = new java.io.InputStreamReader(streamed.body(), java.nio.charset.StandardCharsets.UTF_8)) {
                char[] buffer = new char[4096];
                int read;
                while (text.indexOf(until) < 0 && (read = body.read(buffer)) >= 0) {
                    text.append(buffer, 0, read);
                }
            }
            String read = text.toString();
            HttpResponse<String> response = new HttpResponse<>() {
                @Override
                public int statusCode() {
                    return streamed.statusCode();
                }

                @Override
                public HttpRequest request() {
                    return streamed.request();
                }

                @Override
                public Optional<HttpResponse<String>> previousResponse() {
                    return Optional.empty();
                }

                @Override
                public java.net.http.HttpHeaders headers() {
                    return streamed.headers();
                }

                @Override
                public String body() {
                    return read;
                }

                @Override
                public Optional<javax.net.ssl.SSLSession> sslSession() {
                    return streamed.sslSession();
                }

                @Override
                public URI uri() {
                    return streamed.uri();
                }

                @Override
                public java.net.http.HttpClient.Version version() {
                    return streamed.version();
                }
            };
            check(built, response);
            return new Response(response);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * The request with this client's credentials (a request that brings its own
     * Authorization keeps it).
     */
    private HttpRequest authenticated(HttpRequest request, boolean retry) {
        if (!isApi(request) || request.headers().firstValue("Authorization").isPresent()) {
            return request;
        }
        String path = request.uri().getRawPath();
        return switch (auth) {
            case NONE -> request;
            case ADMIN -> {
                String authorization = path.equals("/api/auth/login") || path.equals("/api/auth/setup") ? null
                        : adminAuthorization(base);
                yield authorization == null ? request
                        : HttpRequest.newBuilder(request, (name, value) -> true)
                            .header("Authorization", authorization)
                            .build();
            }
            case TOKEN -> HttpRequest.newBuilder(request, (name, value) -> true)
                .header("Authorization", "Bearer " + token)
                .build();
            case COOKIE -> {
                Optional<String> xsrf = cookie("XSRF-TOKEN");
                boolean write = !java.util.Set.of("GET", "HEAD", "OPTIONS").contains(request.method());
                yield write && xsrf.isPresent() && request.headers().firstValue("X-XSRF-TOKEN").isEmpty()
                        ? HttpRequest.newBuilder(request, (name, value) -> true)
                            .header("X-XSRF-TOKEN", xsrf.get())
                            .build()
                        : request;
            }
        };
    }

    private static boolean isApi(HttpRequest request) {
        String path = request.uri().getRawPath();
        return path != null && (path.equals("/api") || path.startsWith("/api/"));
    }

    private void check(HttpRequest request, HttpResponse<String> response) {
        if (!checkContract) {
            return;
        }
        ContractValidator validator = ContractValidator.forServer(base);
        Map<String, java.util.List<String>> headers = new java.util.LinkedHashMap<>(request.headers().map());
        validator.assertKept(new ContractValidator.Exchange(request.method(), request.uri().getRawPath(),
                request.uri().getRawQuery(), headers, body(request), response.statusCode(), response.headers().map(),
                response.body()), checkRequests);
    }

    /**
     * The bytes a request's body publisher gives (the publishers tests use give them
     * again on each subscription).
     */
    private static byte[] body(HttpRequest request) {
        if (request.bodyPublisher().isEmpty() || request.bodyPublisher().get().contentLength() == 0) {
            return null;
        }
        var collected = new java.io.ByteArrayOutputStream();
        var done = new java.util.concurrent.CompletableFuture<byte[]>();
        request.bodyPublisher().get().subscribe(new java.util.concurrent.Flow.Subscriber<java.nio.ByteBuffer>() {
            @Override
            public void onSubscribe(java.util.concurrent.Flow.Subscription subscription) {
                subscription.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(java.nio.ByteBuffer item) {
                byte[] bytes = new byte[item.remaining()];
                item.get(bytes);
                collected.writeBytes(bytes);
            }

            @Override
            public void onError(Throwable throwable) {
                done.complete(null);
            }

            @Override
            public void onComplete() {
                done.complete(collected.toByteArray());
            }
        });
        try {
            return done.get(10, java.util.concurrent.TimeUnit.SECONDS);
        }
        catch (Exception e) {
            return null;
        }
    }

    public URI uri(String path) {
        return URI.create(base + path);
    }

    /**
     * {@code POST /api/sessions/{id}/messages}, with an Idempotency-Key when {@code key}
     * is not null.
     */
    public Response sendMessage(java.util.UUID session, String text, String key) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/api/sessions/" + session + "/messages"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json(Map.of("text", text, "author", "ada"))));
        if (key != null) {
            request.header("Idempotency-Key", key);
        }
        return send(request);
    }

    /** {@code POST /api/sessions/{id}/interrupt}. */
    public Response interrupt(java.util.UUID session) {
        return send(HttpRequest.newBuilder(uri("/api/sessions/" + session + "/interrupt"))
            .POST(HttpRequest.BodyPublishers.noBody()));
    }

    /**
     * Creates a project with a fresh key, so tests sharing a database never see each
     * other's data.
     */
    public String newProject(String prefix) {
        return newProject(prefix, null);
    }

    /**
     * Creates a project with a fresh key and this {@code busyPolicy} ({@code reject}: a
     * send to a busy session is {@code 409 session-busy}; {@code queue}, the default when
     * null: it waits).
     */
    public String newProject(String prefix, String busyPolicy) {
        String key = prefix + "-" + Long.toString(System.nanoTime(), 36);
        Response created = checkingRequests().put("/api/projects/" + key, "{\"name\":\"" + prefix
                + "\",\"repoUrl\":null" + (busyPolicy == null ? "" : ",\"busyPolicy\":\"" + busyPolicy + "\"") + "}");
        if (created.status() != 201) {
            throw new IllegalStateException("Cannot create project " + key + ": " + created);
        }
        return key;
    }

    /** Creates a session without a title in the project and returns its id. */
    public java.util.UUID newSession(String project) {
        Response created = checkingRequests().post("/api/projects/" + project + "/sessions", "{}");
        if (created.status() != 201) {
            throw new IllegalStateException("Cannot create a session in " + project + ": " + created);
        }
        return java.util.UUID.fromString(created.json().get("id").asString());
    }

    public static String json(Map<String, ?> body) {
        return JSON.writeValueAsString(body);
    }

    /** A response with its JSON body parsed (when it has one). */
    public record Response(HttpResponse<String> raw) {

        public int status() {
            return raw.statusCode();
        }

        public String text() {
            return raw.body();
        }

        public JsonNode json() {
            return JSON.readTree(raw.body());
        }

        public Optional<String> header(String name) {
            return raw.headers().firstValue(name);
        }

        public String contentType() {
            return header("Content-Type").orElse("");
        }

        @Override
        public String toString() {
            return status() + " " + raw.body();
        }
    }

}
