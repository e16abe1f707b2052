package dev.collab.database;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import dev.collab.support.Api;
import dev.collab.support.ServerProcess;
import dev.collab.support.TempDirectories;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Built-in mode does not hand the database to every local user: connections need the
 * random password kept in {@code <data-dir>/postgres-password} (0600), nothing under the
 * data directory is writable by others, a data directory made by an older version (which
 * trusted every local connection) is switched over on start, a lost password file is
 * replaced by a new password, and the password file of another installation is named as
 * such at once.
 */
class BuiltInDatabaseSecurityProcessIT {

    @Test
    void connectionsNeedThePasswordAndNothingIsWritableByOthers() throws Exception {
        Path dataDir = TempDirectories.create("secure-");
        String first;
        try (ServerProcess server = ServerProcess.start(dataDir).awaitReady()) {
            Api api = server.api();
            UUID session = api.newSession(api.newProject("secure"));
            api.sendMessage(session, "hello", null);
            await().atMost(Duration.ofSeconds(60))
                .until(() -> api.get("/api/sessions/" + session).json().get("state").asString().equals("IDLE"));

            first = password(dataDir);
            assertThat(first).hasSizeGreaterThanOrEqualTo(32);
            assertThat(Files.getPosixFilePermissions(dataDir.resolve("postgres-password")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
            assertRefusedWithoutThePassword(dataDir);
            assertThat(canQuery(dataDir, first)).isTrue();
            assertThat(Files.readString(dataDir.resolve("postgres/pg_hba.conf"))).doesNotContain("trust");
            assertThat(writableByOthers(dataDir)).as("world-writable entries under the data directory").isEmpty();
            assertThat(server.output()).doesNotContain(first);
            assertThat(server.terminate(Duration.ofSeconds(60))).isIn(0, 143);
        }

        // The password file is lost: the next start sets a new password, and the old one
        // stops working.
        Files.delete(dataDir.resolve("postgres-password"));
        try (ServerProcess server = ServerProcess.start(dataDir).awaitReady()) {
            assertThat(server.output()).contains("was missing: setting a new password");
            String second = password(dataDir);
            assertThat(second).isNotEqualTo(first);
            assertThat(canQuery(dataDir, second)).isTrue();
            assertThatThrownBy(() -> canQuery(dataDir, first)).isInstanceOf(SQLException.class);
            assertThat(server.output()).doesNotContain(second);
        }
    }

    @Test
    void aDataDirectoryOfTheOldTrustingVersionIsSwitchedToThePassword() throws Exception {
        Path dataDir = TempDirectories.create("upgrade-");
        // What earlier versions left: the library's cluster as initdb made it (trust),
        // with data in it.
        try (EmbeddedPostgres old = EmbeddedPostgres.builder()
            .setDataDirectory(dataDir.resolve("postgres"))
            .setCleanDataDirectory(false)
            .setRegisterShutdownHook(false)
            .setLocaleConfig("locale", "C")
            .start();
                Connection admin = old.getPostgresDatabase().getConnection();
                var statement = admin.createStatement()) {
            statement.execute("create database collab");
            try (Connection collab = old.getDatabase("postgres", "collab").getConnection();
                    var create = collab.createStatement()) {
                // Its own schema: Flyway migrates an empty "public" only.
                create.execute("create schema before_upgrade");
                create.execute("create table before_upgrade.kept (answer int)");
                create.execute("insert into before_upgrade.kept values (42)");
            }
        }
        assertThat(Files.readString(dataDir.resolve("postgres/pg_hba.conf"))).contains("trust");
        assertThat(Files.exists(dataDir.resolve("postgres-password"))).isFalse();

        try (ServerProcess server = ServerProcess.start(dataDir).awaitReady()) {
            assertThat(server.api()
                .post("/api/projects/" + server.api().newProject("upgraded") + "/sessions", "{}")
                .status()).isEqualTo(201);
            assertThat(server.output()).contains("Setting up password authentication for the built-in PostgreSQL");
            String password = password(dataDir);
            assertRefusedWithoutThePassword(dataDir);
            try (Connection connection = DriverManager.getConnection(url(dataDir), "postgres", password);
                    var rows = connection.createStatement().executeQuery("select answer from before_upgrade.kept")) {
                assertThat(rows.next()).isTrue();
                assertThat(rows.getInt(1)).as("the data of before is still there").isEqualTo(42);
            }
            assertThat(Files.readString(dataDir.resolve("postgres/pg_hba.conf"))).doesNotContain("trust");
            assertThat(server.terminate(Duration.ofSeconds(60))).isIn(0, 143);
        }
        // Started again: already switched, nothing to do, same password.
        String password = password(dataDir);
        try (ServerProcess server = ServerProcess.start(dataDir).awaitReady()) {
            assertThat(password(dataDir)).isEqualTo(password);
            assertThat(server.output()).doesNotContain("password authentication for the built-in",
                    "setting a new password");
            assertThat(canQuery(dataDir, password)).isTrue();
        }
    }

    @Test
    void aPasswordFileOfAnotherInstallationIsNamedAtOnce() throws Exception {
        Path dataDir = TempDirectories.create("foreign-");
        try (ServerProcess server = ServerProcess.start(dataDir).awaitReady()) {
            assertThat(server.terminate(Duration.ofSeconds(60))).isIn(0, 143);
        }
        String own = password(dataDir);
        String foreign = "f".repeat(43);
        Files.writeString(dataDir.resolve("postgres-password"), foreign + "\n"); // restored
                                                                                 // from
                                                                                 // elsewhere

        try (ServerProcess server = ServerProcess.start(dataDir)) {
            assertThat(server.awaitExit(Duration.ofSeconds(120))).isNotZero();
            assertThat(server.output()).contains("The password in " + dataDir.resolve("postgres-password"),
                    "is not the one the built-in database in", "was the file restored from another installation?",
                    "or delete " + dataDir.resolve("postgres-password"));
            assertThat(server.output()).doesNotContain(own).doesNotContain(foreign);
            assertThat(writableByOthers(dataDir)).as("world-writable entries after a failed start").isEmpty();
        }

        // As the message says: without the file, the next start sets a new password; the
        // data stays.
        Files.delete(dataDir.resolve("postgres-password"));
        try (ServerProcess server = ServerProcess.start(dataDir)) {
            server.awaitReady();
            assertThat(canQuery(dataDir, password(dataDir))).isTrue();
        }
    }

    private static void assertRefusedWithoutThePassword(Path dataDir) throws IOException {
        String url = url(dataDir);
        assertThatThrownBy(() -> DriverManager.getConnection(url, "postgres", "")).isInstanceOf(SQLException.class);
        assertThatThrownBy(() -> DriverManager.getConnection(url, "postgres", "not-the-password"))
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("password authentication failed");
        var noPassword = new java.util.Properties();
        noPassword.setProperty("user", "postgres");
        assertThatThrownBy(() -> DriverManager.getConnection(url, noPassword)).isInstanceOf(SQLException.class);
    }

    private static boolean canQuery(Path dataDir, String password) throws SQLException, IOException {
        try (Connection connection = DriverManager.getConnection(url(dataDir), "postgres", password);
                var rows = connection.createStatement().executeQuery("select 1")) {
            return rows.next();
        }
    }

    /**
     * The built-in server's port, as PostgreSQL itself records it (line 4 of
     * postmaster.pid).
     */
    private static String url(Path dataDir) throws IOException {
        List<String> pid = Files.readAllLines(dataDir.resolve("postgres/postmaster.pid"));
        return "jdbc:postgresql://localhost:" + pid.get(3).strip() + "/collab";
    }

    private static String password(Path dataDir) throws IOException {
        return Files.readString(dataDir.resolve("postgres-password")).strip();
    }

    private static List<Path> writableByOthers(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            return paths.filter(path -> !Files.isSymbolicLink(path)).filter(path -> {
                try {
                    return Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS)
                        .contains(PosixFilePermission.OTHERS_WRITE);
                }
                catch (IOException e) {
                    return false; // gone meanwhile (a temp file of PostgreSQL)
                }
            }).toList();
        }
    }

}
