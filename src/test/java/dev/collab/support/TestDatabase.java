package dev.collab.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The one PostgreSQL server of a test run: a Testcontainers PostgreSQL when a Docker
 * engine is available, otherwise the same embedded PostgreSQL as built-in mode. Decided
 * once, started once per JVM; tests are isolated by getting a database of their own from
 * it.
 */
public final class TestDatabase {

    private static final Logger log = LoggerFactory.getLogger(TestDatabase.class);

    private static final AtomicInteger databases = new AtomicInteger();

    private static volatile Server server;

    private TestDatabase() {
    }

    /** A JDBC URL, user and password of a server-wide admin connection. */
    public record Server(String host, int port, String user, String password, String kind) {

        public String url(String database) {
            return "jdbc:postgresql://" + host + ":" + port + "/" + database;
        }
    }

    public static synchronized Server server() {
        if (server == null) {
            server = start();
        }
        return server;
    }

    /** Creates an empty database for one test context and returns its JDBC URL. */
    public static String newDatabase() {
        Server s = server();
        String name = "collab_test_" + ProcessHandle.current().pid() + "_" + databases.incrementAndGet();
        try (Connection connection = DriverManager.getConnection(s.url("postgres"), s.user(), s.password());
                var statement = connection.createStatement()) {
            statement.execute("create database " + name);
        }
        catch (SQLException e) {
            throw new IllegalStateException("Cannot create test database " + name, e);
        }
        return s.url(name);
    }

    /**
     * Every cached test context holds its own pool (20 by default) on this one server,
     * and the suite has many contexts with their own settings: PostgreSQL's default of
     * 100 ran out ("too many clients") once issue 13 added a few.
     */
    private static final int MAX_CONNECTIONS = 500;

    private static Server start() {
        if (dockerAvailable()) {
            PostgreSQLContainer container = new PostgreSQLContainer("postgres:18-alpine").withCommand("postgres", "-c",
                    "max_connections=" + MAX_CONNECTIONS);
            container.start();
            log.info("Test database: Testcontainers PostgreSQL at {}", container.getJdbcUrl());
            return new Server(container.getHost(), container.getFirstMappedPort(), container.getUsername(),
                    container.getPassword(), "testcontainers");
        }
        try {
            EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                .setServerConfig("max_connections", String.valueOf(MAX_CONNECTIONS))
                .start();
            log.info("Test database: no Docker engine, embedded PostgreSQL on port {}", postgres.getPort());
            return new Server("localhost", postgres.getPort(), "postgres", "", "embedded");
        }
        catch (IOException e) {
            throw new UncheckedIOException("Cannot start the embedded test PostgreSQL", e);
        }
    }

    private static boolean dockerAvailable() {
        if (Boolean.getBoolean("collab.test.no-docker")) {
            return false;
        }
        boolean configured = System.getenv("DOCKER_HOST") != null
                || java.nio.file.Files.exists(java.nio.file.Path.of("/var/run/docker.sock")) || java.nio.file.Files
                    .exists(java.nio.file.Path.of(System.getProperty("user.home"), ".testcontainers.properties"));
        if (!configured) {
            return false;
        }
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        }
        catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

}
