package dev.collab.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.collab.support.Api;
import dev.collab.support.ServerProcess;
import dev.collab.support.SseClient;
import dev.collab.support.TempDirectories;
import dev.collab.support.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Benchmark (issue 15, {@code -Dbench=true} only; src/bench/protocol-bench.sh): the fake
 * Claude Code writes {@value #LINES} assistant-text lines at {@value #RATE} lines/s
 * through {@code claude-code}, and the same volume as plain lines through {@code text};
 * each line carries the time it was written, and the SSE client notes when it arrives.
 * Two server processes (one per protocol, same database server), measured in turns;
 * reported: delivery latency p50/p99/max per protocol and that every line arrived.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class ProtocolBenchmark {

    static final int LINES = Integer.getInteger("bench.lines", 5000);

    static final int RATE = Integer.getInteger("bench.rate", 500);

    static final int ROUNDS = Integer.getInteger("bench.rounds", 2);

    static final Pattern AT = Pattern.compile("line (\\d+) at (\\d+)");

    ServerProcess server(String protocol) {
        var db = TestDatabase.server();
        return ServerProcess
            .start(TempDirectories.create("bench-" + protocol + "-"),
                    "--spring.datasource.url=" + TestDatabase.newDatabase(),
                    "--spring.datasource.username=" + db.user(), "--spring.datasource.password=" + db.password(),
                    "--collab.sweeper.enabled=false", "--collab.runner.protocol=" + protocol,
                    "--collab.runner.command=" + FakeClaude.command(), "--collab.runner.timeout=10m")
            .awaitReady();
    }

    /** One run: the latencies of every line, in microseconds. */
    static List<Long> round(Api api) {
        UUID session = api.newSession(api.newProject("bench"));
        List<Long> latencies = new ArrayList<>();
        boolean[] seen = new boolean[LINES + 1];
        try (SseClient client = SseClient.connect(api.uri("/api/sessions/" + session + "/events/stream"), null)) {
            assertThat(api.sendMessage(session, "flood " + LINES + " " + RATE, null).status()).isEqualTo(202);
            long deadline = System.nanoTime() + Duration.ofSeconds(LINES / RATE + 120).toNanos();
            while (System.nanoTime() < deadline) {
                SseClient.Message message = client.next(Duration.ofSeconds(1));
                if (message == null) {
                    continue;
                }
                Instant now = Instant.now();
                long received = now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
                if (message.event().equals("run.finished")) {
                    assertThat(message.json().get("data").get("status").asString()).isEqualTo("succeeded");
                    break;
                }
                if (message.event().equals("agent.text") || message.event().equals("output")) {
                    Matcher m = AT.matcher(message.json().get("data").get("text").asString());
                    while (m.find()) {
                        seen[Integer.parseInt(m.group(1))] = true;
                        latencies.add(received - Long.parseLong(m.group(2)));
                    }
                }
            }
        }
        for (int i = 1; i <= LINES; i++) {
            assertThat(seen[i]).as("line " + i + " arrived").isTrue();
        }
        return latencies;
    }

    static String summary(String protocol, List<Long> latencies) {
        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        return String.format(Locale.ROOT, "%-12s lines %6d  p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms", protocol,
                sorted.size(), percentile(sorted, 0.50) / 1000.0, percentile(sorted, 0.99) / 1000.0,
                sorted.getLast() / 1000.0);
    }

    static long percentile(List<Long> sorted, double p) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
    }

    @Test
    void claudeCodeDeliversAsFastAsText() throws IOException {
        try (ServerProcess text = server("text"); ServerProcess claude = server("claude-code")) {
            // A warm-up run each, not counted.
            round(text.api());
            round(claude.api());
            List<Long> textLatencies = new ArrayList<>();
            List<Long> claudeLatencies = new ArrayList<>();
            for (int r = 0; r < ROUNDS; r++) {
                textLatencies.addAll(round(text.api()));
                claudeLatencies.addAll(round(claude.api()));
            }
            String report = String.join("\n",
                    "Agent protocols (issue 15): " + LINES + " lines at " + RATE + " lines/s, " + ROUNDS
                            + " rounds each, after one warm-up round",
                    summary("text", textLatencies), summary("claude-code", claudeLatencies));
            System.out.println(report);
            Files.writeString(Path.of("target", "protocol-bench.txt"), report + "\n");
        }
    }

}
