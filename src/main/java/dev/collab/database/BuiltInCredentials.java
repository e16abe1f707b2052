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
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import dev.collab.ops.StartupCheckException;
import io.zonky.test.db.postgres.util.LinuxUtils;
import org.postgresql.util.PasswordUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built-in PostgreSQL's password. The library creates clusters that trust every local TCP
 * connection as the superuser, so any OS user of the machine would own the database. Instead:
 * a random password, generated at first start and kept in {@code <data-dir>/postgres-password}
 * (mode 0600), and a {@code pg_hba.conf} that asks for it (scram-sha-256) on every connection.
 *
 * <p>The password is set, and {@code pg_hba.conf} rewritten, before the postmaster starts, with
 * PostgreSQL's single-user mode (no connection is ever accepted without the password, not even
 * during a first start), whenever {@code pg_hba.conf} is not exactly ours (a new cluster, or one
 * made by an older version, which trusted everyone) or the password file is new (it was lost).
 * The password never appears in a command line or a log: the single-user backend gets its SCRAM
 * verifier on stdin.
 */
final class BuiltInCredentials {

    static final String FILE_NAME = "postgres-password";
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

    /** Reads the password file, or creates it with a new random password (0600 from the start). */
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
        } catch (IOException e) {
            throw new StartupCheckException("Cannot read or create the built-in database password file " + file + ": "
                    + e.getMessage(), "Make collab.data-dir a local directory this user can write.", e);
        }
    }

    String password() {
        return password;
    }

    /**
     * Before the postmaster starts: unless the cluster already asks for this password, sets it
     * (single-user mode) and then rewrites {@code pg_hba.conf}, in that order, so a start that is
     * interrupted in between does it again next time.
     *
     * @param binaries the PostgreSQL installation ({@code bin/postgres})
     */
    void secure(Path dataDirectory, Path binaries) {
        Path hba = dataDirectory.resolve("pg_hba.conf");
        try {
            boolean ours = PG_HBA.equals(readIfPresent(hba));
            if (ours && !created) {
                return;
            }
            // A new cluster, or one of an older version that trusted every local connection.
            log.info(ours ? "The password file of the built-in PostgreSQL in {} was missing: setting a new password (kept in {})"
                    : "Setting up password authentication for the built-in PostgreSQL in {} (password kept in {})",
                    dataDirectory, file);
            setPassword(dataDirectory, binaries);
            writeOwnerOnly(hba, PG_HBA);
        } catch (IOException e) {
            throw new StartupCheckException("Cannot secure the built-in PostgreSQL in " + dataDirectory + ": "
                    + e.getMessage(), "Make collab.data-dir a local directory this user can write.", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StartupCheckException("Interrupted while securing the built-in PostgreSQL in " + dataDirectory,
                    "Start the server again.", e);
        }
    }

    private void setPassword(Path dataDirectory, Path binaries) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (LinuxUtils.isUnshareAvailable()) {
            command.addAll(List.of("unshare", "-U"));   // as the library runs PostgreSQL when we are root
        }
        command.addAll(List.of(binaries.resolve("bin").resolve("postgres").toString(), "--single",
                "-D", dataDirectory.toString(), "-c", "password_encryption=scram-sha-256", "postgres"));
        String verifier = PasswordUtil.encodeScramSha256(password.toCharArray());
        Process backend = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output;
        try {
            try (OutputStream in = backend.getOutputStream()) {
                in.write(("ALTER ROLE " + BuiltInPostgres.USER + " PASSWORD '" + verifier + "';\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
            output = new String(backend.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!backend.waitFor(60, TimeUnit.SECONDS)) {
                throw new IOException("PostgreSQL's single-user mode did not finish in 60 s");
            }
        } finally {
            backend.destroyForcibly();
        }
        // Single-user mode reports a failed statement on its output and still exits with 0.
        String failure = output.lines().filter(line -> line.contains("ERROR:") || line.contains("FATAL:")
                || line.contains("PANIC:")).findFirst().orElse(null);
        if (backend.exitValue() != 0 || failure != null) {
            throw new IOException("setting the password in single-user mode failed: "
                    + (failure == null ? "exit code " + backend.exitValue() : failure.replace(verifier, "…").strip()));
        }
    }

    private static String readIfPresent(Path path) throws IOException {
        try {
            return Files.readString(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return "";
        }
    }

    /** Written to a 0600 temp file first and moved in place: never readable by others, never half written. */
    private static void writeOwnerOnly(Path target, String content) throws IOException {
        Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.deleteIfExists(temp);
        try {
            Files.createFile(temp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } catch (UnsupportedOperationException e) {
            Files.createFile(temp);   // not a POSIX file system: its own access rules apply
        }
        Files.writeString(temp, content, StandardCharsets.UTF_8);
        try {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void restrictToOwner(Path path) throws IOException {
        try {
            if (!Files.getPosixFilePermissions(path).equals(OWNER_ONLY)) {
                Files.setPosixFilePermissions(path, OWNER_ONLY);
            }
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system
        }
    }
}
