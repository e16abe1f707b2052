package dev.collab.database;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.collab.ops.StartupCheckException;
import io.zonky.test.db.postgres.util.LinuxUtils;
import org.postgresql.util.PasswordUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built-in PostgreSQL's password. The library creates clusters that trust every local
 * TCP connection as the superuser, so any OS user of the machine would own the database.
 * Instead: a random password, generated at first start and kept in
 * {@code <data-dir>/postgres-password} (mode 0600), and a {@code pg_hba.conf} that asks
 * for it (scram-sha-256) on every connection.
 *
 * <p>
 * The password is set, and {@code pg_hba.conf} rewritten, before the postmaster starts,
 * with PostgreSQL's single-user mode (no connection is ever accepted without the
 * password, not even during a first start), whenever {@code pg_hba.conf} is not exactly
 * ours (a new cluster, or one made by an older version, which trusted everyone), the
 * password file is new (it was lost), or the cluster has no record of the password it was
 * given ({@value #CHECK_FILE}). That record, a salted hash kept in the cluster's
 * directory, tells at once when the password file is not the cluster's (restored from
 * another installation): the server says so instead of waiting for PostgreSQL to accept a
 * password it does not know. The password never appears in a command line or a log: the
 * single-user backend gets its SCRAM verifier on stdin.
 */
final class BuiltInCredentials {

    static final String FILE_NAME = "postgres-password";

    /**
     * In the cluster's directory: a salted SHA-256 of the password the cluster was given.
     */
    static final String CHECK_FILE = "collab-password-check";

    private static final Duration SINGLE_USER_WAIT = Duration.ofSeconds(60);
    static final String PG_HBA = """
            # Written by collab-server at startup: every connection needs the password of the built-in
            # database (<data-dir>/postgres-password). Changes to this file are replaced at the next start.
            local   all   all                  scram-sha-256
            host    all   all   127.0.0.1/32   scram-sha-256
            host    all   all   ::1/128        scram-sha-256
            """;

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private static final Logger log = LoggerFactory.getLogger(BuiltInCredentials.class);

    private final Path file;

    private final String password;

    private final boolean created;

    private BuiltInCredentials(Path file, String password, boolean created) {
        this.file = file;
        this.password = password;
        this.created = created;
    }

    /**
     * Reads the password file, or creates it with a new random password (0600 from the
     * start).
     */
    static BuiltInCredentials load(Path file) {
        try {
            String existing = readIfPresent(file).strip();
            if (existing.length() >= 32) {
                restrictToOwner(file);
                return new BuiltInCredentials(file, existing, false);
            }
            byte[] random = new byte[32];
            new SecureRandom().nextBytes(random);
            String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            writeOwnerOnly(file, password + "\n");
            return new BuiltInCredentials(file, password, true);
        }
        catch (IOException e) {
            throw new StartupCheckException(
                    "Cannot read or create the built-in database password file " + file + ": " + e.getMessage(),
                    "Make collab.data-dir a local directory this user can write.", e);
        }
    }

    String password() {
        return password;
    }

    /**
     * Before the postmaster starts: unless the cluster already asks for this password,
     * sets it (single-user mode) and then rewrites {@code pg_hba.conf}, in that order, so
     * a start that is interrupted in between does it again next time.
     * @param binaries the PostgreSQL installation ({@code bin/postgres})
     */
    void secure(Path dataDirectory, Path binaries) {
        Path hba = dataDirectory.resolve("pg_hba.conf");
        Path check = dataDirectory.resolve(CHECK_FILE);
        try {
            boolean ours = PG_HBA.equals(readIfPresent(hba));
            String recorded = readIfPresent(check).strip();
            if (ours && !created && !recorded.isEmpty()) {
                if (matches(recorded, password)) {
                    return;
                }
                throw new StartupCheckException(
                        "The password in " + file + " is not the one the built-in database in " + dataDirectory
                                + " was set up with (was the file restored from another installation?).",
                        "Put back the " + FILE_NAME + " file that belongs to this data directory, or delete " + file
                                + " and start again: the server then sets a new password (the data stays).");
            }
            // A new cluster, one of an older version that trusted every local connection,
            // a lost
            // password file, or a cluster secured before the check file existed.
            log.info(!ours
                    ? "Setting up password authentication for the built-in PostgreSQL in {} (password kept in {})"
                    : created
                            ? "The password file of the built-in PostgreSQL in {} was missing: setting a new password (kept in {})"
                            : "Setting the password of the built-in PostgreSQL in {} again (from {}) to record its check",
                    dataDirectory, file);
            setPassword(dataDirectory, binaries);
            writeOwnerOnly(check, record(password) + "\n");
            writeOwnerOnly(hba, PG_HBA);
        }
        catch (IOException e) {
            throw new StartupCheckException(
                    "Cannot secure the built-in PostgreSQL in " + dataDirectory + ": " + e.getMessage(),
                    "Make collab.data-dir a local directory this user can write.", e);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StartupCheckException("Interrupted while securing the built-in PostgreSQL in " + dataDirectory,
                    "Start the server again.", e);
        }
    }

    private void setPassword(Path dataDirectory, Path binaries) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (LinuxUtils.isUnshareAvailable()) {
            command.addAll(List.of("unshare", "-U")); // as the library runs PostgreSQL
                                                      // when we are root
        }
        command.addAll(List.of(binaries.resolve("bin").resolve("postgres").toString(), "--single", "-D",
                dataDirectory.toString(), "-c", "password_encryption=scram-sha-256", "postgres"));
        String verifier = PasswordUtil.encodeScramSha256(password.toCharArray());
        Finished backend = run(command, "ALTER ROLE " + BuiltInPostgres.USER + " PASSWORD '" + verifier + "';\n",
                SINGLE_USER_WAIT);
        // Single-user mode reports a failed statement on its output and still exits with
        // 0.
        String failure = backend.output()
            .lines()
            .filter(line -> line.contains("ERROR:") || line.contains("FATAL:") || line.contains("PANIC:"))
            .findFirst()
            .orElse(null);
        if (backend.exitCode() != 0 || failure != null) {
            throw new IOException("setting the password in single-user mode failed: "
                    + (failure == null ? "exit code " + backend.exitCode() : failure.replace(verifier, "…").strip()));
        }
    }

    record Finished(int exitCode, String output) {
    }

    /**
     * Runs a command with {@code input} on its stdin and waits at most {@code wait} for
     * it to exit. Its output is read on another thread: reading it here until its end
     * would wait as long as the process lives, and the timeout would never apply.
     */
    static Finished run(List<String> command, String input, Duration wait) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        FutureTask<String> output = new FutureTask<>(
                () -> new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        Thread.ofVirtual().name("postgres-single-user-output").start(output);
        try {
            try (OutputStream in = process.getOutputStream()) {
                in.write(input.getBytes(StandardCharsets.UTF_8));
            }
            catch (IOException e) {
                // it exited without reading: its output and exit code say why
            }
            if (!process.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IOException(command.getFirst() + " did not finish in " + wait.toSeconds() + " s");
            }
            return new Finished(process.exitValue(), output.get(wait.toMillis(), TimeUnit.MILLISECONDS));
        }
        catch (ExecutionException | TimeoutException e) {
            throw new IOException("could not read the output of " + command.getFirst() + ": " + e, e);
        }
        finally {
            process.destroyForcibly();
            output.cancel(true);
        }
    }

    /**
     * A record of the password to tell a foreign password file at once: salt and SHA-256,
     * base64.
     */
    static String record(String password) {
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        return "sha256:" + Base64.getEncoder().encodeToString(salt) + ":"
                + Base64.getEncoder().encodeToString(hash(salt, password));
    }

    static boolean matches(String record, String password) {
        String[] parts = record.split(":");
        if (parts.length != 3 || !parts[0].equals("sha256")) {
            return false;
        }
        try {
            byte[] salt = Base64.getDecoder().decode(parts[1]);
            return MessageDigest.isEqual(Base64.getDecoder().decode(parts[2]), hash(salt, password));
        }
        catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static byte[] hash(byte[] salt, String password) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(salt);
            return digest.digest(password.getBytes(StandardCharsets.UTF_8));
        }
        catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static String readIfPresent(Path path) throws IOException {
        try {
            return Files.readString(path, StandardCharsets.UTF_8);
        }
        catch (NoSuchFileException e) {
            return "";
        }
    }

    /**
     * Written to a 0600 temp file first and moved in place: never readable by others,
     * never half written.
     */
    private static void writeOwnerOnly(Path target, String content) throws IOException {
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.deleteIfExists(temp);
        try {
            Files.createFile(temp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        }
        catch (UnsupportedOperationException e) {
            Files.createFile(temp); // not a POSIX file system: its own access rules apply
        }
        Files.writeString(temp, content, StandardCharsets.UTF_8);
        try {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void restrictToOwner(Path path) throws IOException {
        try {
            if (!Files.getPosixFilePermissions(path).equals(OWNER_ONLY)) {
                Files.setPosixFilePermissions(path, OWNER_ONLY);
            }
        }
        catch (UnsupportedOperationException e) {
            // not a POSIX file system
        }
    }

}
