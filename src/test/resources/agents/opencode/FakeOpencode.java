import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fake {@code opencode serve} for collab-server's tests: the endpoints the opencode
 * driver uses (POST /session, GET /session/{id}, GET /event, POST
 * /session/{id}/prompt_async, POST /permission/{id}/reply), with basic auth from
 * OPENCODE_SERVER_PASSWORD, replaying transcript.sse for every prompt (see README.md for
 * its directives). Sessions are kept under $XDG_DATA_HOME/opencode/fake-sessions, so a
 * new process continues them. JDK only; run with the source launcher:
 * {@code java FakeOpencode.java [--transcript <file>] [--no-listen] [--legacy-permissions] serve --hostname 127.0.0.1 --port 0}.
 */
public class FakeOpencode {

    static final List<OutputStream> subscribers = new CopyOnWriteArrayList<>();

    static final Map<String, CompletableFuture<String>> replies = new ConcurrentHashMap<>();

    static Path transcript = Path.of("transcript.sse");

    static Path sessions;

    static String authorization;

    static boolean legacyPermissions;

    public static void main(String[] args) throws Exception {
        String hostname = "127.0.0.1";
        int port = 4096;
        boolean listen = true;
        int longLine = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--transcript" -> transcript = Path.of(args[++i]);
                case "--hostname" -> hostname = args[++i];
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--no-listen" -> listen = false;
                case "--legacy-permissions" -> legacyPermissions = true;
                case "--long-line" -> longLine = Integer.parseInt(args[++i]);
                default -> {
                }
            }
        }
        String data = System.getenv("XDG_DATA_HOME");
        sessions = Path.of(data == null ? System.getProperty("user.home") + "/.local/share" : data, "opencode",
                "fake-sessions");
        Files.createDirectories(sessions);
        String password = System.getenv("OPENCODE_SERVER_PASSWORD");
        String user = System.getenv().getOrDefault("OPENCODE_SERVER_USERNAME", "opencode");
        if (password == null || password.isEmpty()) {
            System.out.println("Warning: OPENCODE_SERVER_PASSWORD is not set; server is unsecured.");
        }
        else {
            authorization = "Basic "
                    + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        }
        System.out.println("INFO  service=fake-opencode starting");
        if (longLine > 0) {
            // One line without a break for longLine characters, written in pieces.
            char[] piece = new char[8192];
            java.util.Arrays.fill(piece, 'x');
            for (int left = longLine; left > 0; left -= piece.length) {
                System.out.print(new String(piece, 0, Math.min(left, piece.length)));
            }
            System.out.println();
        }
        if (!listen) {
            Thread.sleep(Long.MAX_VALUE);
        }
        HttpServer server = HttpServer.create(new InetSocketAddress(hostname, port), 0);
        server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", FakeOpencode::handle);
        server.start();
        System.out.println("opencode server listening on http://" + hostname + ":" + server.getAddress().getPort());
        System.out.flush();
    }

    static void handle(HttpExchange exchange) throws IOException {
        try {
            if (authorization != null && !authorization.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"Secure Area\"");
                send(exchange, 401, "Unauthorized");
                return;
            }
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Matcher matcher;
            if (method.equals("GET") && path.equals("/event")) {
                events(exchange);
            }
            else if (method.equals("POST") && path.equals("/session")) {
                String id = "ses_" + UUID.randomUUID().toString().replace("-", "").substring(0, 26);
                Files.writeString(sessions.resolve(id), "");
                send(exchange, 200, session(id));
            }
            else if (method.equals("GET") && (matcher = Pattern.compile("/session/(ses_\\w+)").matcher(path)).matches()) {
                if (Files.exists(sessions.resolve(matcher.group(1)))) {
                    send(exchange, 200, session(matcher.group(1)));
                }
                else {
                    send(exchange, 404, "{\"name\":\"NotFoundError\",\"data\":{\"message\":\"Session not found\"}}");
                }
            }
            else if (method.equals("POST")
                    && (matcher = Pattern.compile("/session/(ses_\\w+)/prompt_async").matcher(path)).matches()) {
                String id = matcher.group(1);
                if (!Files.exists(sessions.resolve(id))) {
                    send(exchange, 404, "{\"name\":\"NotFoundError\",\"data\":{\"message\":\"Session not found\"}}");
                    return;
                }
                String prompt = string(body, "text");
                List<String> earlier = Files.readAllLines(sessions.resolve(id));
                Files.writeString(sessions.resolve(id), escape(prompt) + "\n", java.nio.file.StandardOpenOption.APPEND);
                exchange.sendResponseHeaders(204, -1);
                exchange.close();
                Thread.ofVirtual().start(() -> replay(id, prompt, earlier));
            }
            else if (method.equals("POST") && legacyPermissions && (matcher = Pattern
                .compile("/session/ses_\\w+/permissions/(per_\\w+)").matcher(path)).matches()) {
                // The route before opencode's permission rework, {"response": …}.
                replies.computeIfAbsent(matcher.group(1), key -> new CompletableFuture<>())
                    .complete(string(body, "response"));
                send(exchange, 200, "true");
            }
            else if (method.equals("POST") && !legacyPermissions
                    && (matcher = Pattern.compile("/permission/(per_\\w+)/reply").matcher(path)).matches()) {
                CompletableFuture<String> reply = replies.computeIfAbsent(matcher.group(1),
                        key -> new CompletableFuture<>());
                reply.complete(string(body, "reply"));
                send(exchange, 200, "true");
            }
            else {
                send(exchange, 404, "{\"name\":\"NotFoundError\",\"data\":{\"message\":\"no route\"}}");
            }
        }
        catch (RuntimeException ex) {
            ex.printStackTrace();
            send(exchange, 500, "{\"name\":\"UnknownError\"}");
        }
    }

    static void events(HttpExchange exchange) throws IOException {
        exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
        exchange.sendResponseHeaders(200, 0);
        OutputStream out = exchange.getResponseBody();
        subscribers.add(out);
        // The transcript's first event is server.connected; a subscriber gets it at once.
        write(out, "data: {\"type\":\"server.connected\",\"properties\":{}}\n\n");
    }

    /** Replays the transcript's blocks for one prompt, following its directives. */
    static void replay(String session, String prompt, List<String> earlier) {
        try {
            String history = earlier.isEmpty() ? ""
                    : " (continuing: " + earlier.size() + " earlier prompt" + (earlier.size() == 1 ? "" : "s")
                            + ", the first: \\\"" + earlier.get(0) + "\\\")";
            String text = Files.readString(transcript);
            String permissionReply = "";
            for (String block : text.split("\n\n")) {
                boolean send = true;
                StringBuilder event = new StringBuilder();
                for (String line : block.split("\n")) {
                    if (line.startsWith(": fake exit-if ")) {
                        String[] words = line.substring(15).split(" ");
                        if (prompt.contains(words[0])) {
                            System.out.println("fake opencode: exiting mid-tool as told");
                            System.out.flush();
                            Runtime.getRuntime().halt(Integer.parseInt(words[1]));
                        }
                    }
                    else if (line.startsWith(": fake close-if ")) {
                        if (prompt.contains(line.substring(16).trim())) {
                            for (OutputStream out : subscribers) {
                                subscribers.remove(out);
                                out.close();
                            }
                        }
                    }
                    else if (line.startsWith(": fake wait-permission ")) {
                        String id = line.substring(23).trim();
                        permissionReply = replies.computeIfAbsent(id, key -> new CompletableFuture<>())
                            .get(5, TimeUnit.MINUTES);
                    }
                    else if (line.startsWith(": fake unless ")) {
                        send &= !prompt.contains(line.substring(14).trim());
                    }
                    else if (line.startsWith(": fake only-if ")) {
                        String word = line.substring(15).trim();
                        send &= prompt.contains(word) || permissionReply.equals(word);
                    }
                    else if (line.startsWith("data:")) {
                        event.append(line
                            .replace("{{session}}", session)
                            .replace("{{prompt}}", escape(prompt))
                            .replace("{{history}}", history)).append('\n');
                    }
                }
                if (send && !event.isEmpty() && !block.contains("server.connected")) {
                    for (OutputStream out : subscribers) {
                        try {
                            write(out, event + "\n");
                        }
                        catch (IOException ex) {
                            subscribers.remove(out);
                        }
                    }
                    Thread.sleep(5);
                }
            }
        }
        catch (Exception ex) {
            ex.printStackTrace();
        }
    }

    static void write(OutputStream out, String text) throws IOException {
        synchronized (out) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }

    static String session(String id) {
        return "{\"id\":\"" + id + "\",\"slug\":\"fake\",\"projectID\":\"global\",\"directory\":\""
                + escape(System.getProperty("user.dir")) + "\",\"title\":\"New session\",\"version\":\"1.14.25\","
                + "\"time\":{\"created\":" + System.currentTimeMillis() + ",\"updated\":"
                + System.currentTimeMillis() + "}}";
    }

    static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    /** The first string member {@code name} of a JSON text, unescaped (enough for a fake). */
    static String string(String json, String name) {
        Matcher matcher = Pattern.compile("\"" + name + "\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
        if (!matcher.find()) {
            return "";
        }
        String raw = matcher.group(1);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            char next = raw.charAt(++i);
            switch (next) {
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case 'r' -> out.append('\r');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'u' -> {
                    out.append((char) Integer.parseInt(raw.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> out.append(next);
            }
        }
        return out.toString();
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder();
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    }
                    else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

}
