package dev.collab.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * HTTP/1.1 over a plain socket, one request per connection, for what no well-behaved
 * client library would send (invalid percent-encoding, raw non-UTF-8 bytes, duplicate
 * headers, wrong lengths of text, broken framing, a head that never ends): the fuzzing
 * tests and the hostile-input tests. The response is read whole, except a live SSE
 * stream, which is read up to its headers.
 */
public final class RawHttp {

    /**
     * What was sent: the request line's method and target, the header lines, the body
     * bytes.
     */
    public record Request(String method, String target, List<String[]> headers, byte[] body) {

        public String describe() {
            StringBuilder text = new StringBuilder(method).append(' ').append(abbreviate(target, 300));
            for (String[] header : headers) {
                text.append("\n    ").append(header[0]).append(": ").append(abbreviate(header[1], 200));
            }
            if (body != null && body.length > 0) {
                text.append("\n    body (")
                    .append(body.length)
                    .append(" bytes): ")
                    .append(abbreviate(new String(body, StandardCharsets.UTF_8), 300));
            }
            return text.toString();
        }
    }

    /** What came back; {@code status} is -1 when nothing did in time. */
    public record Response(int status, Map<String, List<String>> headers, String body, String failure) {

        /** The first value of a header (the name in any case), or "" if there is none. */
        public String header(String name) {
            String value = first(headers, name);
            return value == null ? "" : value;
        }

        public JsonNode json() {
            return Api.JSON.readTree(body);
        }
    }

    private RawHttp() {
    }

    public static Response exchange(int port, Request request, int timeoutMillis) {
        String authorization = isApi(request.target()) ? Api.adminAuthorization("http://localhost:" + port) : null;
        if (authorization != null
                && request.headers().stream().noneMatch(header -> header[0].equalsIgnoreCase("Authorization"))) {
            // As the server's first admin, like Api: what is tested here is not
            // authentication.
            List<String[]> headers = new ArrayList<>(request.headers());
            headers.add(new String[] { "Authorization", authorization });
            request = new Request(request.method(), request.target(), headers, request.body());
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes((request.method() + " " + request.target() + " HTTP/1.1\r\n").getBytes(StandardCharsets.UTF_8));
        for (String[] header : request.headers()) {
            // Header values go out as UTF-8 bytes: a non-ASCII value is sent as a client
            // would mis-send it.
            out.writeBytes((header[0] + ": " + header[1] + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        if (request.body() != null) {
            out.writeBytes(request.body());
        }
        return exchange(port, out.toByteArray(), request.method().equals("HEAD"), timeoutMillis);
    }

    /**
     * Sends {@code request} exactly as written (one byte per char, ISO-8859-1) and reads
     * the answer; fails if none comes within 20 s.
     */
    public static Response exchange(int port, String request) {
        request = authorized(port, request);
        Response response = exchange(port, request.getBytes(StandardCharsets.ISO_8859_1), request.startsWith("HEAD "),
                20_000);
        assertThat(response.failure()).as("an answer to " + abbreviate(request, 300)).isNull();
        return response;
    }

    /**
     * The raw request with the first admin's {@code Authorization} header added, when it
     * is an HTTP/1.x request for {@code /api/**} with a complete request line and none of
     * its own.
     */
    public static String authorized(int port, String request) {
        int lineEnd = request.indexOf("\r\n");
        if (lineEnd < 0) {
            return request;
        }
        String line = request.substring(0, lineEnd);
        String[] parts = line.split(" ");
        int headEnd = request.indexOf("\r\n\r\n");
        String head = (headEnd < 0 ? request : request.substring(0, headEnd)).toLowerCase(Locale.ROOT);
        if (parts.length != 3 || !isApi(parts[1]) || !parts[2].startsWith("HTTP/1.")
                || head.contains("\r\nauthorization:")) {
            return request;
        }
        String authorization = Api.adminAuthorization("http://localhost:" + port);
        return authorization == null ? request
                : line + "\r\nAuthorization: " + authorization + request.substring(lineEnd);
    }

    private static boolean isApi(String target) {
        return target.equals("/api") || target.startsWith("/api/") || target.startsWith("/api?");
    }

    private static Response exchange(int port, byte[] request, boolean head, int timeoutMillis) {
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(timeoutMillis);
            try {
                socket.getOutputStream().write(request);
                socket.getOutputStream().flush();
            }
            catch (IOException e) {
                // The server may answer (431, 413) and close before it read everything:
                // read that answer.
            }
            return read(socket.getInputStream(), head);
        }
        catch (SocketTimeoutException e) {
            return new Response(-1, Map.of(), null, "no complete answer within " + timeoutMillis + " ms");
        }
        catch (IOException e) {
            return new Response(-1, Map.of(), null, "connection failed: " + e);
        }
    }

    /**
     * Sends the start of a request head that never ends, and reads until the server
     * closes the connection: what it answered, if anything. Fails if the server keeps the
     * connection open.
     */
    public static String stallInHead(int port, String partialHead) throws IOException {
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(60_000);
            socket.getOutputStream().write(partialHead.getBytes(StandardCharsets.US_ASCII));
            return readToEnd(socket.getInputStream());
        }
    }

    /**
     * Sends the start of a request head, then one more header line every 500 ms (well
     * inside the idle timeout, 3 s in tests: only a head deadline can end it), until the
     * server closes the connection or 300 lines went. Asserts the server closed it;
     * returns how many lines went.
     */
    public static int trickleHead(int port, String partialHead) throws Exception {
        AtomicBoolean closed = new AtomicBoolean();
        AtomicInteger sent = new AtomicInteger();
        try (Socket socket = new Socket("localhost", port)) {
            OutputStream out = socket.getOutputStream();
            out.write(partialHead.getBytes(StandardCharsets.US_ASCII));
            Thread reader = Thread.ofVirtual().start(() -> {
                try {
                    readToEnd(socket.getInputStream());
                }
                catch (IOException e) {
                    // a reset is a close too
                }
                closed.set(true);
            });
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
                if (closed.get()) {
                    return true;
                }
                try {
                    out.write(("X-Slow-" + sent.incrementAndGet() + ": a\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
                catch (SocketException e) {
                    return true; // the server closed it under our write
                }
                return sent.get() > 300;
            });
            reader.join(Duration.ofSeconds(30));
            assertThat(closed.get()).as("closed by the server while the client was still sending").isTrue();
        }
        return sent.get();
    }

    /**
     * Everything until the server closes the connection; fails if it keeps it open past
     * the socket's timeout.
     */
    public static String readToEnd(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try {
            int n;
            while ((n = in.read(buffer)) > 0) {
                out.write(buffer, 0, n);
            }
        }
        catch (SocketException e) {
            // reset by the server: closed
        }
        catch (SocketTimeoutException e) {
            throw new AssertionError("the server kept the connection open", e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * One answer (to a request that was not HEAD) off a connection that may stay open.
     */
    public static Response read(InputStream in) throws IOException {
        return read(in, false);
    }

    private static Response read(InputStream in, boolean head) throws IOException {
        String statusLine = line(in);
        if (statusLine == null) {
            return new Response(-1, Map.of(), null, "the server closed the connection without an answer");
        }
        String[] parts = statusLine.split(" ", 3);
        int status = Integer.parseInt(parts[1]);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        while (status / 100 == 1) {
            // An interim answer (100 Continue): skip it, the final one follows.
            for (String line = line(in); line != null && !line.isEmpty(); line = line(in)) {
                // its headers do not matter
            }
            statusLine = line(in);
            if (statusLine == null) {
                return new Response(-1, Map.of(), null, "the server closed the connection after " + status);
            }
            status = Integer.parseInt(statusLine.split(" ", 3)[1]);
        }
        for (String line = line(in); line != null && !line.isEmpty(); line = line(in)) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.computeIfAbsent(line.substring(0, colon).trim(), ignored -> new ArrayList<>())
                    .add(line.substring(colon + 1).trim());
            }
        }
        String contentType = first(headers, "Content-Type");
        if (head || status == 204 || status == 304) {
            return new Response(status, headers, "", null);
        }
        if (contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith("text/event-stream")) {
            return new Response(status, headers, null, null); // a live stream: its
                                                              // headers are the answer
        }
        byte[] body;
        String length = first(headers, "Content-Length");
        String encoding = first(headers, "Transfer-Encoding");
        if (encoding != null && encoding.equalsIgnoreCase("chunked")) {
            ByteArrayOutputStream chunks = new ByteArrayOutputStream();
            while (true) {
                String size = line(in);
                if (size == null) {
                    break;
                }
                int semicolon = size.indexOf(';');
                int n = Integer.parseInt((semicolon < 0 ? size : size.substring(0, semicolon)).trim(), 16);
                if (n == 0) {
                    break;
                }
                chunks.writeBytes(in.readNBytes(n));
                line(in);
            }
            body = chunks.toByteArray();
        }
        else if (length != null) {
            body = in.readNBytes(Integer.parseInt(length.trim()));
        }
        else {
            body = in.readAllBytes();
        }
        return new Response(status, headers, new String(body, StandardCharsets.UTF_8), null);
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
    }

    public static String first(Map<String, List<String>> headers, String name) {
        for (Map.Entry<String, List<String>> header : headers.entrySet()) {
            if (header.getKey().equalsIgnoreCase(name) && !header.getValue().isEmpty()) {
                return header.getValue().getFirst();
            }
        }
        return null;
    }

    public static String abbreviate(String text, int max) {
        String printable = text.replace("\r", "\\r").replace("\n", "\\n").replace("\u0000", "\\0");
        return printable.length() <= max ? printable
                : printable.substring(0, max) + "…(" + printable.length() + " chars)";
    }

}
