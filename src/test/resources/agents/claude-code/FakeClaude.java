import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fake Claude Code for the tests (run with the source launcher: java FakeClaude.java
 * --transcripts DIR [claude's arguments]). It checks that it was started as
 * collab-server's claude-code protocol starts Claude Code, reads the stream-json user
 * message, and answers from the recorded transcript (session.jsonl, README.md) or with a
 * scenario chosen by the message:
 *
 * replay            the recorded session; its permission request waits for the
 *                   control_response and follows the decision (deny: the tool's result is
 *                   the denial, as Claude Code reports it)
 * edit FILE TEXT    asks permission to Write TEXT into FILE (relative to its working
 *                   directory); allowed, it really writes the file (appending a line
 *                   break) and reports it, as Claude Code's Write tool does; denied, it
 *                   reports the denial
 * malformed         lines that are not JSON among the real ones
 * crash             exits with code 1 after a tool_use, without its result
 * error-result      a result with is_error
 * long-line N       a line of N characters that is no JSON
 * remember WORD     / recall: the conversation kept under CLAUDE_CONFIG_DIR, as Claude Code
 *                   keeps it; --resume ID fails like Claude Code when ID is unknown
 * until-stopped     an assistant text "line N" every 10 ms, N also in the file progress,
 *                   until a file named stop appears in the working directory
 * flood N RATE      N assistant text lines at RATE lines per second, each carrying the
 *                   time it was written (the benchmark)
 *
 * Without -p it is a plain text agent (collab.runner.protocol=text): "flood N RATE"
 * prints the same lines as text.
 *
 * After its result it waits for the end of stdin, as Claude Code does in stream-json
 * input mode: a server that never closes stdin would hang it.
 */
public class FakeClaude {

    static final List<String> PROTOCOL = List.of("-p", "--input-format", "stream-json", "--output-format",
            "stream-json", "--verbose", "--permission-prompt-tool", "stdio");

    static final PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);

    static BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

    static String sessionId;

    static String cwd = Path.of("").toAbsolutePath().toString();

    public static void main(String[] args) throws Exception {
        List<String> rest = new ArrayList<>(List.of(args));
        Path transcripts = null;
        if (rest.size() >= 2 && rest.get(0).equals("--transcripts")) {
            transcripts = Path.of(rest.get(1));
            rest = new ArrayList<>(rest.subList(2, rest.size()));
        }
        if (rest.isEmpty()) {
            text(new String(System.in.readAllBytes(), StandardCharsets.UTF_8));
            return;
        }
        String resume = null;
        if (rest.size() == PROTOCOL.size() + 2 && rest.get(PROTOCOL.size()).equals("--resume")) {
            resume = rest.get(PROTOCOL.size() + 1);
            rest = rest.subList(0, PROTOCOL.size());
        }
        if (!rest.equals(PROTOCOL)) {
            System.err.println("fake claude: unexpected arguments " + List.of(args));
            System.exit(2);
        }
        String configDir = System.getenv("CLAUDE_CONFIG_DIR");
        if (configDir == null || !Files.isDirectory(Path.of(configDir))) {
            System.err.println("fake claude: CLAUDE_CONFIG_DIR is not a directory: " + configDir);
            System.exit(2);
        }
        Path projects = Path.of(configDir, "projects");
        Files.createDirectories(projects);
        String first = in.readLine();
        if (first == null || !first.contains("\"type\":\"user\"")) {
            System.err.println("fake claude: expected a stream-json user message, got " + first);
            System.exit(2);
        }
        String message = string(first, "content");
        if (resume != null) {
            if (!Files.exists(projects.resolve(resume + ".jsonl"))) {
                emit("{\"type\":\"result\",\"subtype\":\"error_during_execution\",\"is_error\":true,"
                        + "\"result\":\"No conversation found with session ID: " + resume + "\",\"session_id\":\""
                        + UUID.randomUUID() + "\",\"usage\":{},\"total_cost_usd\":0}");
                awaitEndOfInput();
                System.exit(1);
            }
            sessionId = resume;
        }
        else {
            sessionId = UUID.randomUUID().toString();
        }
        Path conversation = projects.resolve(sessionId + ".jsonl");
        List<String> earlier = Files.exists(conversation) ? Files.readAllLines(conversation) : List.of();
        Files.writeString(conversation, message.replace('\n', ' ') + "\n", StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        String[] words = message.strip().split("\\s+");
        switch (words[0]) {
            case "replay" -> replay(transcripts.resolve("session.jsonl"));
            case "edit" -> {
                init();
                edit(words[1], String.join(" ", List.of(words).subList(2, words.length)) + "\n");
            }
            case "malformed" -> {
                init();
                out.println("this line is not JSON");
                out.println("{\"type\":\"assistant\",\"message\":{\"content\":[");
                out.println("[1, 2, 3]");
                out.flush();
                assistantText("Still here after the noise.");
                result(false, "done");
            }
            case "crash" -> {
                init();
                emit("{\"type\":\"assistant\",\"message\":{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\","
                        + "\"id\":\"toolu_crash\",\"name\":\"Bash\",\"input\":{\"command\":\"make\"}}]},"
                        + "\"parent_tool_use_id\":null,\"session_id\":\"" + sessionId + "\"}");
                System.err.println("Error: connection to the API was lost");
                System.err.println("fatal: Claude Code crashed while running Bash");
                System.exit(1);
            }
            case "error-result" -> {
                init();
                result(true, "API Error: 401 invalid x-api-key");
            }
            case "long-line" -> {
                init();
                out.println("x".repeat(Integer.parseInt(words[1])));
                out.flush();
                result(false, "long");
            }
            case "remember", "recall" -> {
                init();
                assistantText((resume == null ? "new conversation" : "resumed " + resume) + "; earlier: "
                        + String.join(" | ", earlier));
                result(false, "ok");
            }
            case "until-stopped" -> {
                init();
                Path progress = Path.of("progress");
                for (int i = 1; !Files.exists(Path.of("stop")); i++) {
                    assistantText("line " + i);
                    Files.writeString(progress, Integer.toString(i));
                    Thread.sleep(10);
                }
                result(false, "stopped");
            }
            case "flood" -> {
                init();
                flood(Integer.parseInt(words[1]), Integer.parseInt(words[2]), true);
                result(false, "flooded");
            }
            default -> {
                init();
                assistantText("you said: " + message);
                result(false, "ok");
            }
        }
        awaitEndOfInput();
    }

    /** Text protocol: plain lines. */
    static void text(String message) throws InterruptedException {
        String[] words = message.strip().split("\\s+");
        if (words[0].equals("flood")) {
            flood(Integer.parseInt(words[1]), Integer.parseInt(words[2]), false);
        }
        else {
            out.println("you said: " + message);
            out.flush();
        }
    }

    /** N lines at RATE per second, each carrying its write time (epoch microseconds). */
    static void flood(int lines, int rate, boolean json) throws InterruptedException {
        long start = System.nanoTime();
        long interval = 1_000_000_000L / rate;
        for (int i = 1; i <= lines; i++) {
            long due = start + i * interval;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
            Instant now = Instant.now();
            String text = "line " + i + " at " + (now.getEpochSecond() * 1_000_000 + now.getNano() / 1000);
            if (json) {
                assistantText(text);
            }
            else {
                out.println(text);
                out.flush();
            }
        }
    }

    static void replay(Path transcript) throws IOException {
        List<String> lines = Files.readAllLines(transcript);
        String deniedMessage = null;
        for (String line : lines) {
            line = line.replace("${SESSION_ID}", sessionId).replace("${CWD}", cwd);
            if (deniedMessage != null && line.startsWith("{\"type\":\"user\"")) {
                // Denied: the tool did not run; Claude Code reports the denial as its
                // result.
                String toolUseId = string(line, "tool_use_id");
                emit("{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
                        + "\"tool_use_id\":\"" + toolUseId + "\",\"content\":" + quote(deniedMessage)
                        + ",\"is_error\":true}]},\"parent_tool_use_id\":null,\"session_id\":\"" + sessionId + "\"}");
                assistantText("I won't run it then.");
                result(false, "I won't run it then.");
                return;
            }
            emit(line);
            if (line.startsWith("{\"type\":\"control_request\"")) {
                String requestId = string(line, "request_id");
                String response = awaitControlResponse(requestId);
                if (response.contains("\"behavior\":\"deny\"")) {
                    deniedMessage = string(response, "message");
                }
                else if (!response.contains("\"behavior\":\"allow\"") || !response.contains("\"updatedInput\"")) {
                    System.err.println("fake claude: bad control_response " + response);
                    System.exit(3);
                }
            }
        }
    }

    /** A Write that asks permission first and runs only when allowed. */
    static void edit(String file, String content) throws IOException {
        Path target = Path.of(cwd, file);
        String toolUseId = "toolu_fake_write_" + UUID.randomUUID().toString().replace("-", "");
        String input = "{\"file_path\":" + quote(target.toString()) + ",\"content\":" + quote(content) + "}";
        assistantText("I'll write `" + file + "`.");
        emit("{\"type\":\"assistant\",\"message\":{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\","
                + "\"id\":\"" + toolUseId + "\",\"name\":\"Write\",\"input\":" + input + "}]},"
                + "\"parent_tool_use_id\":null,\"session_id\":\"" + sessionId + "\"}");
        String requestId = UUID.randomUUID().toString();
        emit("{\"type\":\"control_request\",\"request_id\":\"" + requestId + "\",\"request\":{\"subtype\":"
                + "\"can_use_tool\",\"tool_name\":\"Write\",\"input\":" + input + ",\"tool_use_id\":\"" + toolUseId
                + "\"}}");
        String response = awaitControlResponse(requestId);
        String output;
        boolean error;
        if (response.contains("\"behavior\":\"allow\"") && response.contains("\"updatedInput\"")) {
            Files.createDirectories(target.getParent());
            Files.writeString(target, content);
            output = "File created successfully at: " + target;
            error = false;
        }
        else if (response.contains("\"behavior\":\"deny\"")) {
            output = string(response, "message");
            error = true;
        }
        else {
            System.err.println("fake claude: bad control_response " + response);
            System.exit(3);
            return;
        }
        emit("{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
                + "\"tool_use_id\":\"" + toolUseId + "\",\"content\":" + quote(output) + ",\"is_error\":" + error
                + "}]},\"parent_tool_use_id\":null,\"session_id\":\"" + sessionId + "\"}");
        String done = error ? "I did not write `" + file + "`." : "**Done**: `" + file + "` now says it.";
        assistantText(done);
        result(false, done);
    }

    static String awaitControlResponse(String requestId) throws IOException {
        String line;
        while ((line = in.readLine()) != null) {
            if (line.contains("\"type\":\"control_response\"") && line.contains("\"request_id\":\"" + requestId + "\"")) {
                return line;
            }
        }
        System.err.println("fake claude: stdin ended while waiting for the permission of " + requestId);
        System.exit(4);
        return "";
    }

    static void awaitEndOfInput() throws IOException {
        while (in.readLine() != null) {
            // Claude Code keeps reading messages until its input ends.
        }
    }

    static void init() {
        emit("{\"type\":\"system\",\"subtype\":\"init\",\"cwd\":" + quote(cwd) + ",\"session_id\":\"" + sessionId
                + "\",\"tools\":[\"Bash\",\"Read\",\"Edit\"],\"mcp_servers\":[],\"model\":\"claude-sonnet-4-5-20250929\","
                + "\"permissionMode\":\"default\",\"apiKeySource\":\"ANTHROPIC_API_KEY\",\"uuid\":\"" + UUID.randomUUID()
                + "\"}");
    }

    static void assistantText(String text) {
        emit("{\"type\":\"assistant\",\"message\":{\"id\":\"msg_fake\",\"type\":\"message\",\"role\":\"assistant\","
                + "\"content\":[{\"type\":\"text\",\"text\":" + quote(text) + "}],\"stop_reason\":null},"
                + "\"parent_tool_use_id\":null,\"session_id\":\"" + sessionId + "\"}");
    }

    static void result(boolean error, String text) {
        emit("{\"type\":\"result\",\"subtype\":\"" + (error ? "error_during_execution" : "success") + "\",\"is_error\":"
                + error + ",\"duration_ms\":12,\"num_turns\":1,\"result\":" + quote(text) + ",\"session_id\":\""
                + sessionId + "\",\"total_cost_usd\":0.0021,\"usage\":{\"input_tokens\":10,"
                + "\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":1000,\"output_tokens\":20}}");
    }

    static void emit(String line) {
        out.print(line);
        out.print('\n');
        out.flush();
    }

    /** The first string value of {@code key} in a JSON line (enough for the lines here). */
    /**
     * The string value of the first {@code "key": "…"}, scanned by hand: a regex with an
     * alternation per character overflows the stack on a 100,000-character message.
     */
    static String string(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*\"").matcher(json);
        if (!m.find()) {
            return "";
        }
        int start = m.end();
        int i = start;
        while (i < json.length() && json.charAt(i) != '"') {
            i += json.charAt(i) == '\\' ? 2 : 1;
        }
        return unquote(json.substring(start, Math.min(i, json.length())));
    }

    static String unquote(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case 'n' -> b.append('\n');
                case 't' -> b.append('\t');
                case 'r' -> b.append('\r');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'u' -> {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> b.append(e);
            }
        }
        return b.toString();
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    }
                    else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

}
