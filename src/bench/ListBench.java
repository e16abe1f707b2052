import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Benchmark (issue 16): the live session list under load. The load side (this process)
 * against a running collab-server (another process, started by list-bench.sh from the
 * test classpath for POST /test/sessions/{id}/events): one project with S active
 * sessions, R appends/s spread over them at random, and first 0 then W live-list watchers
 * ({@code GET /api/projects/{key}/sessions/stream}), each for the same D seconds.
 * Prints, side by side: the server's CPU (JVM, and PostgreSQL: the postmaster and its
 * children, from /proc) with 0 and with W watchers, and with W watchers the latency from
 * each append (the moment its request was sent: conservative, the append's own time is
 * included) to the update that shows it on each watcher.
 *
 * usage: java ListBench.java base token serverPid postmasterPid [sessions=1000]
 * [rate=500] [watchers=50] [seconds=30]
 */
public class ListBench {

    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static final Pattern ITEM = Pattern.compile("\"id\":\"([0-9a-f-]{36})\"[^{}]*?\"headSeq\":(\\d+)");

    static String base;

    static String token;

    public static void main(String[] args) throws Exception {
        base = args[0];
        token = args[1];
        int serverPid = Integer.parseInt(args[2]);
        int postmasterPid = Integer.parseInt(args[3]);
        int sessionCount = args.length > 4 ? Integer.parseInt(args[4]) : 1000;
        int rate = args.length > 5 ? Integer.parseInt(args[5]) : 500;
        int watcherCount = args.length > 6 ? Integer.parseInt(args[6]) : 50;
        int seconds = args.length > 7 ? Integer.parseInt(args[7]) : 30;
        String project = "list-bench-" + Long.toString(System.nanoTime(), 36);
        check(send("PUT", "/api/projects/" + project, "{\"name\":\"list bench\"}"), 201);
        List<UUID> sessions = new ArrayList<>();
        try (var pool = Executors.newFixedThreadPool(8)) {
            var futures = new ArrayList<java.util.concurrent.Future<UUID>>();
            for (int i = 0; i < sessionCount; i++) {
                futures.add(pool.submit(() -> {
                    String body = check(send("POST", "/api/projects/" + project + "/sessions", "{}"), 201);
                    return UUID.fromString(body.replaceAll(".*\"id\":\"([0-9a-f-]{36})\".*", "$1"));
                }));
            }
            for (var future : futures) {
                sessions.add(future.get());
            }
        }
        System.out.printf("project %s: %d sessions; %d appends/s for %d s with 0, then %d watchers%n", project,
                sessions.size(), rate, seconds, watcherCount);

        // Warm-up (JIT, pools), not measured; then the same load three times: without
        // watchers (the reference), with them, and without again (the machine's drift).
        // Both code paths get warm: a window with watchers, then one without.
        Watchers warming = new Watchers(project, watcherCount);
        warming.open();
        load(sessions, rate, Math.max(10, seconds), serverPid, postmasterPid, warming);
        warming.close();
        load(sessions, rate, Math.max(10, seconds / 2), serverPid, postmasterPid, null);
        Window without = load(sessions, rate, seconds, serverPid, postmasterPid, null);
        Watchers watchers = new Watchers(project, watcherCount);
        watchers.open();
        double tickCpu0 = metric("collab_session_list_tick_cpu");
        double bytes0 = metric("collab_session_list_bytes");
        Window with = load(sessions, rate, seconds, serverPid, postmasterPid, watchers);
        double tickCpu = metric("collab_session_list_tick_cpu") - tickCpu0;
        double bytes = metric("collab_session_list_bytes") - bytes0;
        Thread.sleep(1000); // the last updates
        watchers.close();
        Thread.sleep(1000);
        Window after = load(sessions, rate, seconds, serverPid, postmasterPid, null);

        long[] latencies = watchers.latencies.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(latencies);
        System.out.println();
        System.out.printf("%-34s %14s %14s %14s%n", "", "0 watchers", watcherCount + " watchers", "0 again");
        System.out.printf("%-34s %14.0f %14.0f %14.0f%n", "appends/s achieved", without.rate(), with.rate(),
                after.rate());
        System.out.printf("%-34s %13.1f%% %13.1f%% %13.1f%%%n", "server JVM CPU (% of one core)",
                without.jvmPercent(), with.jvmPercent(), after.jvmPercent());
        System.out.printf("%-34s %13.1f%% %13.1f%% %13.1f%%%n", "PostgreSQL CPU (% of one core)",
                without.pgPercent(), with.pgPercent(), after.pgPercent());
        double reference = (without.jvmPercent() + without.pgPercent() + after.jvmPercent() + after.pgPercent()) / 2;
        System.out.printf("%-34s %14s %13.1f%%%n", "difference to the mean of the 0s", "",
                with.jvmPercent() + with.pgPercent() - reference);
        System.out.printf("%-34s %14s %13.1f%%%n", "of which the ticks' own CPU", "", 100 * tickCpu / with.seconds());
        System.out.printf("%-34s %14s %11.1f MB/s%n", "updates handed to streams", "", bytes / with.seconds() / 1e6);
        System.out.printf("%-34s %14s %14d%n", "update messages received", "", watchers.messages.get());
        if (latencies.length > 0) {
            System.out.printf("%-34s %14s %14d%n", "change→update samples", "", latencies.length);
            System.out.printf("%-34s %14s %11.1f ms%n", "p50", "", percentile(latencies, 0.50) / 1e6);
            System.out.printf("%-34s %14s %11.1f ms%n", "p99", "", percentile(latencies, 0.99) / 1e6);
            System.out.printf("%-34s %14s %11.1f ms%n", "max", "", latencies[latencies.length - 1] / 1e6);
        }
        System.out.printf("%-34s %14s %14d%n", "watchers closed early", "", watchers.ended.get());
    }

    record Window(double seconds, long appends, double jvmCpu, double pgCpu) {

        double rate() {
            return appends / seconds;
        }

        double jvmPercent() {
            return 100 * jvmCpu / seconds;
        }

        double pgPercent() {
            return 100 * pgCpu / seconds;
        }
    }

    /** R appends/s at random sessions for D s; CPU of the server's processes over it. */
    static Window load(List<UUID> sessions, int rate, int seconds, int serverPid, int postmasterPid,
            Watchers watchers) throws Exception {
        AtomicLong appends = new AtomicLong();
        double jvm0 = cpu(serverPid);
        double pg0 = treeCpu(postmasterPid);
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        long interval = 1_000_000_000L / rate;
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            long next = start;
            while (next < end) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                UUID session = sessions.get(ThreadLocalRandom.current().nextInt(sessions.size()));
                pool.submit(() -> {
                    long sent = System.nanoTime();
                    try {
                        HttpResponse<String> response = send("POST", "/test/sessions/" + session + "/events", null);
                        if (response.statusCode() == 200) {
                            appends.incrementAndGet();
                            if (watchers != null) {
                                watchers.appended(session, Long.parseLong(response.body().trim()), sent);
                            }
                        }
                    }
                    catch (Exception e) {
                        // counted as not achieved
                    }
                });
                next += interval;
            }
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        return new Window(elapsed, appends.get(), cpu(serverPid) - jvm0, treeCpu(postmasterPid) - pg0);
    }

    /** The live-list streams and what they received. */
    static final class Watchers {

        final String project;

        final int count;

        /** session → seq → when its append was sent (nanoTime). */
        final Map<UUID, Map<Long, Long>> sentAt = new ConcurrentHashMap<>();

        final ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();

        final AtomicLong messages = new AtomicLong();

        final AtomicLong ended = new AtomicLong();

        final List<HttpResponse<java.io.InputStream>> responses = new ArrayList<>();

        volatile boolean closing;

        Watchers(String project, int count) {
            this.project = project;
            this.count = count;
        }

        void appended(UUID session, long seq, long sent) {
            sentAt.computeIfAbsent(session, s -> new ConcurrentHashMap<>()).put(seq, sent);
        }

        void open() throws Exception {
            CountDownLatch snapshots = new CountDownLatch(count);
            for (int i = 0; i < count; i++) {
                HttpRequest request = HttpRequest
                    .newBuilder(URI.create(base + "/api/projects/" + project + "/sessions/stream?limit=50"))
                    .header("Authorization", "Bearer " + token)
                    .header("Accept", "text/event-stream")
                    .build();
                HttpResponse<java.io.InputStream> response = HTTP.send(request,
                        HttpResponse.BodyHandlers.ofInputStream());
                if (response.statusCode() != 200) {
                    throw new IllegalStateException("stream: " + response.statusCode());
                }
                responses.add(response);
                Thread.ofVirtual().start(() -> read(response, snapshots));
            }
            if (!snapshots.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("not every watcher got its snapshot");
            }
        }

        private void read(HttpResponse<java.io.InputStream> response, CountDownLatch snapshots) {
            // This watcher's view: the head it has seen of each session. A session's first
            // head the watcher sees (outside the first page of 50: with its first update) is
            // not counted; every later append is. An update that arrives before its append's
            // response does is not counted either (no send time yet): the fastest ones, so
            // the figures err on the slow side.
            Map<UUID, Long> seen = new java.util.HashMap<>();
            try (var lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                String event = null;
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    if (line.startsWith("event: ")) {
                        event = line.substring(7);
                    }
                    else if (line.startsWith("data: ")) {
                        long now = System.nanoTime();
                        Matcher items = ITEM.matcher(line);
                        while (items.find()) {
                            UUID session = UUID.fromString(items.group(1));
                            long head = Long.parseLong(items.group(2));
                            Long before = seen.put(session, head);
                            if ("snapshot".equals(event) || before == null) {
                                continue;
                            }
                            Map<Long, Long> sent = sentAt.get(session);
                            for (long seq = before + 1; sent != null && seq <= head; seq++) {
                                Long at = sent.get(seq);
                                if (at != null) {
                                    latencies.add(now - at);
                                }
                            }
                        }
                        if ("snapshot".equals(event)) {
                            snapshots.countDown();
                        }
                        else {
                            messages.incrementAndGet();
                        }
                    }
                }
            }
            catch (Exception e) {
                // closed
            }
            if (!closing) {
                ended.incrementAndGet();
            }
        }

        void close() throws Exception {
            closing = true;
            for (var response : responses) {
                response.body().close();
            }
        }

    }

    /** Nearest-rank percentile of sorted values. */
    static double percentile(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }

    /** The first sample of the server's Prometheus scrape whose name starts so (0: none). */
    static double metric(String name) throws Exception {
        String scrape = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/actuator/prometheus")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (String line : scrape.split("\n")) {
            if (line.startsWith(name)) { // by prefix: the unit and _total suffixes are Micrometer's
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }

    static HttpResponse<String> send(String method, String path, String json) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
            .header("Authorization", "Bearer " + token);
        if (json == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        else {
            request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String check(HttpResponse<String> response, int status) {
        if (response.statusCode() != status) {
            throw new IllegalStateException(response.request().method() + " " + response.uri() + ": "
                    + response.statusCode() + " " + response.body());
        }
        return response.body();
    }

    /** CPU seconds (user + system) of one process. */
    static double cpu(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0; // CLK_TCK
        }
        catch (Exception e) {
            return 0;
        }
    }

    /** CPU seconds of a process and its children (PostgreSQL's backends). */
    static double treeCpu(int pid) throws Exception {
        double total = cpu(pid);
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.toList()) {
                String name = proc.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String stat = Files.readString(proc.resolve("stat"));
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    if (Integer.parseInt(fields[1]) == pid) {
                        total += cpu(Integer.parseInt(name));
                    }
                }
                catch (Exception e) {
                    // gone meanwhile
                }
            }
        }
        return total;
    }

}
