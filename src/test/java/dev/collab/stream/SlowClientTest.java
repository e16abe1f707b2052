package dev.collab.stream;

import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.LongStream;

import dev.collab.event.EventLog;
import dev.collab.support.Api;
import dev.collab.support.IntegrationTest;
import dev.collab.support.SseClient;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A client that stops reading is closed; it never slows the others nor grows the heap.
 */
@IntegrationTest
class SlowClientTest {

    @LocalServerPort
    int port;

    @Autowired
    Api api;

    @Autowired
    EventLog eventLog;

    @Autowired
    MeterRegistry registry;

    @Test
    void aStalledClientIsClosedAndTheOthersGetEverythingInTime() throws Exception {
        String project = api.newProject("slow");
        UUID session = api.newSession(project);
        double closedBefore = registry.get("collab.stream.slow.clients.closed").counter().count();

        try (Socket stalled = new Socket()) {
            stalled.setReceiveBufferSize(4096);
            stalled.connect(new java.net.InetSocketAddress("localhost", port));
            stalled.getOutputStream()
                .write(dev.collab.support.RawHttp
                    .authorized(port,
                            "GET /api/sessions/" + session + "/events/stream HTTP/1.1\r\nHost: localhost\r\n"
                                    + "Accept: text/event-stream\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            // ...and never reads again.
            try (SseClient healthy = SseClient.connect(api.uri("/api/sessions/" + session + "/events/stream"), null)) {
                healthy.take(1, Duration.ofSeconds(20));
                String text = "y".repeat(8_000);
                // More than the stalled client's buffer (collab.stream.buffer-events,
                // 2,000), so it overflows.
                int events = 3_000;
                for (int i = 0; i < events; i++) {
                    eventLog.append(session, "output",
                            Map.of("runId", session.toString(), "stream", "stdout", "text", text));
                }
                // Not held up by the stalled one: had its delivery waited behind the
                // stalled writes, its
                // own buffer would have overflowed too (a gap, or its stream closed as
                // slow). It gets every
                // event, in order, and stays open. (The duration is only a deadline for a
                // broken server.)
                List<SseClient.Message> received = healthy.take(events, Duration.ofSeconds(60));
                assertThat(received).extracting(SseClient.Message::event).containsOnly("output");
                assertThat(received).extracting(SseClient.Message::seq)
                    .containsExactlyElementsOf(LongStream.rangeClosed(2, events + 1).boxed().toList());
                assertThat(healthy.ended()).as("the healthy stream was closed").isFalse();
            }
            await().atMost(Duration.ofSeconds(60))
                .untilAsserted(() -> assertThat(registry.get("collab.stream.slow.clients.closed").counter().count())
                    .isGreaterThan(closedBefore));
            // Reading now drains what was buffered and then finds the connection closed
            // by the server.
            stalled.setSoTimeout(10_000);
            InputStream in = stalled.getInputStream();
            byte[] buffer = new byte[1 << 16];
            long total = 0;
            int n;
            while ((n = in.read(buffer)) > 0) {
                total += n;
            }
            assertThat(n).as("server closed the stream").isEqualTo(-1);
            assertThat(total).as("it got far fewer bytes than were appended").isLessThan(3_000L * 8_000);
        }
    }

}
