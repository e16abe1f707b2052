package dev.collab.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * The server as an operator runs it: a separate JVM started from the test classpath, so
 * tests can send it real signals (SIGTERM, SIGKILL) and read what it prints.
 */
public final class ServerProcess implements AutoCloseable {

    private final Process process;

    private final Path output;

    private final Path dataDir;

    private final int port;

    private final Map<String, String> environment;

    private final String[] args;

    private ServerProcess(Process process, Path output, Path dataDir, int port, Map<String, String> environment,
            String[] args) {
        this.process = process;
        this.output = output;
        this.dataDir = dataDir;
        this.port = port;
        this.environment = environment;
        this.args = args;
    }

    /**
     * Starts the server in built-in mode on {@code dataDir} with extra
     * {@code --name=value} args.
     */
    public static ServerProcess start(Path dataDir, String... args) {
        return start(Map.of(), dataDir, args);
    }

    /**
     * Like {@link #start(Path, String...)}, with these environment variables. The server
     * never inherits the test JVM's {@code SPRING_*}, {@code COLLAB_*} or
     * {@code LOG_FORMAT}: only what a test gives it.
     */
    public static ServerProcess start(Map<String, String> environment, Path dataDir, String... args) {
        return start(environment, dataDir, freePort(), args);
    }

    /**
     * The same server again after this one exited (SIGTERM, SIGKILL): same port, data
     * directory, environment and args, so clients (a browser) reconnect to the same
     * address. Its output goes to a new log file.
     */
    public ServerProcess restart() {
        if (process.isAlive()) {
            throw new IllegalStateException("the server is still running: terminate() or kill() it first");
        }
        return start(environment, dataDir, port, args);
    }

    private static ServerProcess start(Map<String, String> environment, Path dataDir, int port, String... args) {
        List<String> command = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                        "-XX:TieredStopAtLevel=1", "-cp",
                        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                        "dev.collab.CollabServerApplication", "--server.port=" + port, "--collab.data-dir=" + dataDir));
        if (java.util.Arrays.stream(args).noneMatch(arg -> arg.startsWith("--collab.auth.first-admin."))) {
            // Every test server has the first admin that Api authenticates as (unless the
            // test sets its own).
            command.add("--collab.auth.first-admin.login=" + Api.ADMIN_LOGIN);
            command.add("--collab.auth.first-admin.password=" + Api.ADMIN_PASSWORD);
        }
        command.addAll(List.of(args));
        try {
            Path output = Files.createTempFile(dataDir.getParent(), "server-", ".log");
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(output.toFile());
            builder.environment()
                .keySet()
                .removeIf(
                        name -> name.startsWith("SPRING_") || name.startsWith("COLLAB_") || name.equals("LOG_FORMAT"));
            builder.environment().putAll(environment);
            return new ServerProcess(builder.start(), output, dataDir, port, Map.copyOf(environment), args.clone());
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Api api() {
        return new Api(port);
    }

    public long pid() {
        return process.pid();
    }

    public ServerProcess awaitReady() {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).until(() -> {
            if (!process.isAlive()) {
                throw new IllegalStateException("server exited with " + process.exitValue() + ":\n" + output());
            }
            try {
                // Still starting: it may have no document to give yet.
                return Api.withoutContract(api().base()).get("/actuator/health/readiness").status() == 200;
            }
            catch (UncheckedIOException e) {
                return false;
            }
        });
        return this;
    }

    public String output() {
        try {
            return Files.readString(output, StandardCharsets.UTF_8);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The lines printed so far, without a last line that is still being written. */
    public List<String> outputLines() {
        String text = output();
        int end = text.lastIndexOf('\n');
        return end < 0 ? List.of() : text.substring(0, end).lines().toList();
    }

    public void awaitOutput(String text) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> output().contains(text));
    }

    /** SIGTERM, as ECS and Kubernetes send it; returns the exit code. */
    public int terminate(Duration within) {
        process.destroy();
        return awaitExit(within);
    }

    /** SIGKILL: no shutdown hook runs, the built-in PostgreSQL is left running. */
    public void kill() {
        process.destroyForcibly();
        awaitExit(Duration.ofSeconds(30));
    }

    public int awaitExit(Duration within) {
        try {
            if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("server did not exit within " + within + ":\n" + output());
            }
            // Only once it is gone: requests still in flight while it drains are checked
            // as usual.
            ContractValidator.forget(api().base());
            return process.exitValue();
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The postmaster of the built-in database, if one runs on this data directory. */
    public Optional<ProcessHandle> postmaster() {
        Path pidFile = dataDir.resolve("postgres").resolve("postmaster.pid");
        try {
            if (!Files.exists(pidFile)) {
                return Optional.empty();
            }
            long pid = Long.parseLong(Files.readAllLines(pidFile).getFirst().trim());
            return ProcessHandle.of(pid).filter(ServerProcess::isRunning);
        }
        catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Never leaves a JVM or a postmaster behind, whatever the test did. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        postmaster().ifPresent(ProcessHandle::destroy);
        ContractValidator.forget(api().base());
    }

    /**
     * Alive and not a zombie: where nothing reaps orphans, a stopped postmaster lingers
     * as one.
     */
    public static boolean isRunning(ProcessHandle process) {
        if (!process.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        }
        catch (IOException | RuntimeException e) {
            return process.isAlive();
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

}
