package dev.collab.database;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import dev.collab.ops.StartupCheckException;
import dev.collab.ops.WritableDirectories;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.util.ArchUtils;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built-in PostgreSQL server: real PostgreSQL binaries shipped in the JAR, with their
 * data under the data directory so it survives restarts.
 *
 * <p>
 * Starting is robust against the previous run having been killed with {@code kill -9}:
 * the postmaster it started is still running on the same data directory (it is a separate
 * process) and is stopped first. When run as root, the library starts PostgreSQL in a
 * user namespace ({@code unshare -U}), since PostgreSQL refuses to run as root.
 */
final class BuiltInPostgres implements AutoCloseable {

    static final String USER = "postgres";
    static final String DATABASE = "collab";

    private static final Logger log = LoggerFactory.getLogger(BuiltInPostgres.class);

    /** The library's lock file: held by the JVM that owns a running built-in server. */
    private static final String OWNER_LOCK = "epg-lock";

    private static final Duration LEFTOVER_STOP_WAIT = Duration.ofSeconds(30);

    private final EmbeddedPostgres postgres;

    private final Path dataDirectory;

    private final String password;

    private boolean closed;

    private BuiltInPostgres(EmbeddedPostgres postgres, Path dataDirectory, String password) {
        this.postgres = postgres;
        this.dataDirectory = dataDirectory;
        this.password = password;
    }

    @SuppressWarnings("NullAway") // dataDirectory is <collab.data-dir>/postgres, which
                                  // has a parent
    static BuiltInPostgres start(Path dataDirectory, Path binariesDirectory) {
        requireShippedBinaries(BuiltInPostgres.class.getClassLoader());
        WritableDirectories.require(dataDirectory.getParent(), "collab.data-dir");
        WritableDirectories.require(dataDirectory, "collab.data-dir");
        WritableDirectories.require(binariesDirectory, "collab.data-dir");
        if (Files.exists(dataDirectory.resolve("postgresql.conf"))) {
            requireNotOwnedByAnotherServer(dataDirectory);
            stopLeftoverPostmaster(dataDirectory);
        }
        else {
            setAsideIncompleteCluster(dataDirectory);
        }
        Path installation = NativeBinaryExtraction.prepare(binariesDirectory);
        BuiltInCredentials credentials = BuiltInCredentials
            .load(dataDirectory.resolveSibling(BuiltInCredentials.FILE_NAME));
        // The library makes its working directory writable for everyone (for a shared
        // /tmp); while
        // it does, no other user may even enter it, and afterwards it is ours alone
        // again.
        restrictToOwner(binariesDirectory);
        EmbeddedPostgres postgres;
        try {
            postgres = EmbeddedPostgres.builder()
                .setDataDirectory(dataDirectory)
                .setCleanDataDirectory(false)
                .setOverrideWorkingDirectory(binariesDirectory.toFile())
                // Spring stops the server after the web server drained; see
                // BuiltInDatabaseConfiguration.
                .setRegisterShutdownHook(false)
                .setPGStartupWait(Duration.ofSeconds(60))
                .setLocaleConfig("locale", "C")
                // The library tunes for throw-away test databases; this one keeps a
                // team's data.
                .setServerConfig("fsync", "on")
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("max_connections", "200")
                .setConnectConfig("password", credentials.password())
                // After initdb, before the postmaster: no connection without the
                // password, ever.
                .setDataDirectoryCustomizer(directory -> credentials.secure(directory.toPath(),
                        installation(installation, binariesDirectory)))
                .start();
        }
        catch (IOException | RuntimeException | ExceptionInInitializerError e) {
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof StartupCheckException ours) {
                    throw ours; // from securing the cluster: its own line says what is
                                // wrong
                }
            }
            throw new StartupCheckException(
                    "The built-in PostgreSQL did not start in " + dataDirectory + ": " + rootMessage(e),
                    "Look at the PostgreSQL log lines above, free the data directory, or point "
                            + "spring.datasource.url at a PostgreSQL server (team mode).",
                    e);
        }
        finally {
            // Also when the start failed: the library left the directory writable for
            // everyone.
            restrictToOwner(binariesDirectory);
        }
        BuiltInPostgres server = new BuiltInPostgres(postgres, dataDirectory, credentials.password());
        server.createDatabaseIfMissing();
        log.info("Built-in PostgreSQL ready on port {} with data in {}", postgres.getPort(), dataDirectory);
        return server;
    }

    /**
     * A build made with {@code -Dteam-mode-only} (the container image) has no PostgreSQL
     * binaries; without a database URL it must say so plainly instead of failing deep
     * inside the library.
     */
    static void requireShippedBinaries(ClassLoader classLoader) {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return; // the library resolves other platforms itself (macos profile)
        }
        String archive = "postgres-linux-" + ArchUtils.normalize(System.getProperty("os.arch")) + ".txz";
        if (classLoader.getResource(archive) == null) {
            throw new StartupCheckException(
                    "No database configured, and this build has no built-in PostgreSQL for this platform "
                            + "(it was built for team mode)",
                    "Set COLLAB_DATABASE_URL (or SPRING_DATASOURCE_URL, _USERNAME, _PASSWORD) to your PostgreSQL.");
        }
    }

    String jdbcUrl() {
        return "jdbc:postgresql://localhost:" + postgres.getPort() + "/" + DATABASE;
    }

    int port() {
        return postgres.getPort();
    }

    /**
     * The superuser's password (from {@code <data-dir>/postgres-password}); never logged.
     */
    String password() {
        return password;
    }

    /**
     * The PostgreSQL installation to run single-user mode with: the one unpacked for this
     * start, or (another platform, binaries the library prepared elsewhere) the newest
     * complete one.
     */
    private static Path installation(@Nullable Path expected, Path binariesDirectory) {
        if (expected != null && Files.isExecutable(expected.resolve("bin").resolve("postgres"))) {
            return expected;
        }
        try (var candidates = Files.list(binariesDirectory)) {
            return candidates.filter(dir -> dir.getFileName().toString().startsWith("PG-"))
                .filter(dir -> Files.isExecutable(dir.resolve("bin").resolve("postgres")))
                .max(java.util.Comparator.comparing(dir -> dir.toFile().lastModified()))
                .orElseThrow(() -> new IOException("no PostgreSQL binaries under " + binariesDirectory));
        }
        catch (IOException e) {
            throw new StartupCheckException("Cannot find the built-in PostgreSQL binaries: " + e.getMessage(),
                    "Remove " + binariesDirectory + " and start again.", e);
        }
    }

    /**
     * Removes every permission of other users from a directory of ours (best effort,
     * POSIX only).
     */
    private static void restrictToOwner(Path directory) {
        try {
            Files.setPosixFilePermissions(directory,
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        }
        catch (IOException | UnsupportedOperationException e) {
            log.warn("Could not restrict {} to its owner: {}", directory, e.toString());
        }
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        log.info("Stopping the built-in PostgreSQL in {}", dataDirectory);
        postgres.close();
    }

    private void createDatabaseIfMissing() {
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
                var exists = connection.prepareStatement("select 1 from pg_database where datname = ?")) {
            exists.setString(1, DATABASE);
            try (var rows = exists.executeQuery()) {
                if (rows.next()) {
                    return;
                }
            }
            try (var create = connection.createStatement()) {
                create.execute("create database " + DATABASE);
            }
        }
        catch (SQLException e) {
            throw new StartupCheckException("The built-in PostgreSQL started but the '" + DATABASE
                    + "' database could not be created: " + e.getMessage(), "Check the PostgreSQL log lines above.", e);
        }
    }

    /**
     * A first start killed during initdb leaves a directory without
     * {@code postgresql.conf} that initdb refuses to reuse. It holds no data, but it is
     * moved aside rather than deleted.
     */
    private static void setAsideIncompleteCluster(Path dataDirectory) {
        try (var entries = Files.list(dataDirectory)) {
            if (entries.findAny().isEmpty()) {
                return;
            }
            Path aside = dataDirectory
                .resolveSibling(dataDirectory.getFileName() + ".incomplete-" + System.currentTimeMillis());
            log.warn(
                    "{} holds an incomplete database cluster (no postgresql.conf); moving it to {} and initializing anew",
                    dataDirectory, aside);
            Files.move(dataDirectory, aside);
            Files.createDirectories(dataDirectory);
        }
        catch (IOException e) {
            throw new StartupCheckException(
                    "Cannot prepare the built-in database directory " + dataDirectory + ": " + e.getMessage(),
                    "Empty or remove that directory, or choose another collab.data-dir.", e);
        }
    }

    /**
     * Two servers on one data directory would corrupt it; the second one stops with a
     * clear line.
     */
    private static void requireNotOwnedByAnotherServer(Path dataDirectory) {
        Path lockFile = dataDirectory.resolve(OWNER_LOCK);
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                throw inUse(dataDirectory);
            }
            lock.release();
        }
        catch (OverlappingFileLockException e) {
            throw inUse(dataDirectory);
        }
        catch (IOException e) {
            throw new StartupCheckException(
                    "Cannot lock the built-in database directory " + dataDirectory + ": " + e.getMessage(),
                    "Make collab.data-dir a local, writable directory.", e);
        }
    }

    private static StartupCheckException inUse(Path dataDirectory) {
        return new StartupCheckException(
                "The built-in database in " + dataDirectory + " is in use by another running collab-server.",
                "Stop the other server, or give this one its own collab.data-dir.");
    }

    /**
     * After {@code kill -9} of the JVM, the postmaster it started keeps running on this
     * data directory (and would make the new start fail). Nobody owns it any more (the
     * owner lock is free), so stop it: politely first, forcibly if it does not go.
     */
    private static void stopLeftoverPostmaster(Path dataDirectory) {
        Path pidFile = dataDirectory.resolve("postmaster.pid");
        Optional<ProcessHandle> leftover = readPid(pidFile).flatMap(ProcessHandle::of)
            .filter(BuiltInPostgres::isRunning)
            .filter(BuiltInPostgres::isPostgres);
        if (leftover.isEmpty()) {
            return;
        }
        ProcessHandle postmaster = leftover.get();
        log.warn("A PostgreSQL left running by a previous server (pid {}) holds {}; stopping it", postmaster.pid(),
                dataDirectory);
        postmaster.destroy();
        if (!awaitExit(postmaster, LEFTOVER_STOP_WAIT)) {
            log.warn("PostgreSQL pid {} did not stop in {}; killing it", postmaster.pid(), LEFTOVER_STOP_WAIT);
            postmaster.destroyForcibly();
            awaitExit(postmaster, Duration.ofSeconds(10));
        }
    }

    private static Optional<Long> readPid(Path pidFile) {
        try {
            List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
            return lines.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(lines.getFirst().trim()));
        }
        catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Guards against a recycled pid: only a process that is PostgreSQL is ever signalled.
     */
    private static boolean isPostgres(ProcessHandle process) {
        var info = process.info();
        return info.command().or(info::commandLine).map(command -> command.contains("postgres")).orElse(false);
    }

    /**
     * Waits until the process is gone. Polls rather than using {@code onExit()}: the
     * postmaster is not our child, and where nothing reaps orphans (a JVM as a
     * container's PID 1) it stays a zombie that {@code isAlive()} still reports.
     */
    private static boolean awaitExit(ProcessHandle process, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (isRunning(process)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(100);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** Alive and not a zombie (on Linux, state {@code Z} in {@code /proc/<pid>/stat}). */
    static boolean isRunning(ProcessHandle process) {
        if (!process.isAlive()) {
            return false;
        }
        Path stat = Path.of("/proc", Long.toString(process.pid()), "stat");
        try {
            String line = Files.readString(stat, StandardCharsets.US_ASCII);
            int afterName = line.lastIndexOf(')');
            return afterName < 0 || afterName + 2 >= line.length() || line.charAt(afterName + 2) != 'Z';
        }
        catch (IOException e) {
            return !Files.isDirectory(Path.of("/proc")) && process.isAlive();
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }

}
