package dev.collab.database;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;

import javax.sql.DataSource;

import dev.collab.ops.BackgroundHealthIndicator;
import dev.collab.web.DatabaseReachability;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationVersion;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.health.contributor.Health;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.stereotype.Component;

/**
 * The {@code db} health component, part of readiness: the database answers and carries
 * every migration this build knows (a replica never takes traffic on a schema older than
 * its code). Replaces Boot's plain connectivity check under the same name.
 *
 * <p>
 * It checks on a connection of its own, outside the pool ({@link DedicatedConnections},
 * application name {@code collab-health}), kept open between checks: an exhausted pool
 * (thousands of streams opening at once, a burst of sends) is not a database that cannot
 * be reached, and readiness must not fail, and take the instance out of the load
 * balancer, because of it.
 */
@Component("dbHealthIndicator")
class DatabaseHealthIndicator extends BackgroundHealthIndicator implements DatabaseReachability, AutoCloseable {

    private static final int QUERY_TIMEOUT_SECONDS = 5;

    /**
     * Longer than the query timeout (which the server enforces), for what the server
     * cannot: a half-open socket (a network partition) would otherwise hold the check
     * (the next ones skip meanwhile), and readiness at its last result, until TCP gives
     * up.
     */
    static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(10);

    private final DataSource dataSource;

    private final Flyway flyway;

    private volatile @Nullable String expectedVersion;

    /**
     * Used by one check at a time (a check still running makes the next ones skip);
     * reopened after a failure.
     */
    private volatile @Nullable Connection connection;

    DatabaseHealthIndicator(DataSource dataSource, Flyway flyway, TaskScheduler scheduler) {
        super("db", Duration.ofSeconds(2), scheduler);
        this.dataSource = dataSource;
        this.flyway = flyway;
    }

    @Override
    protected String failureReason(Exception e) {
        return "database not reachable";
    }

    @Override
    protected Health check() throws SQLException {
        Health.Builder builder = new Health.Builder();
        String expected = expectedVersion();
        SchemaState state = schemaState(expected);
        builder.withDetail("database", "PostgreSQL").withDetail("schemaVersion", expected);
        if (state.migrated() && !state.failed()) {
            builder.up();
        }
        else {
            builder.outOfService()
                .withDetail("reason",
                        state.failed() ? "a migration failed" : "schema not migrated to version " + expected);
        }
        return builder.build();
    }

    private SchemaState schemaState(String expected) throws SQLException {
        if (connection == null) {
            connection = DedicatedConnections.open(dataSource, "collab-health", SOCKET_TIMEOUT);
        }
        try (PreparedStatement statement = connection.prepareStatement("""
                select exists (select 1 from flyway_schema_history where version = ? and success) as migrated,
                       exists (select 1 from flyway_schema_history where not success) as failed,
                       (select max(installed_rank) from flyway_schema_history) as migrations
                """)) {
            statement.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
            statement.setString(1, expected);
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return new SchemaState(rs.getBoolean("migrated"), rs.getBoolean("failed"), rs.getInt("migrations"));
            }
        }
        catch (SQLException | RuntimeException e) {
            closeConnection(); // a broken connection is not reused: the next check opens
                               // a new one
            throw e;
        }
    }

    /**
     * The last check (not older than the background check's staleness limit) found the
     * database UP.
     */
    @Override
    public boolean recentlyReachable() {
        return org.springframework.boot.health.contributor.Status.UP.equals(health().getStatus());
    }

    /**
     * The health connection's socket timeout in milliseconds, or -1 without a connection
     * (tests).
     */
    int socketTimeoutMillis() throws SQLException {
        Connection open = connection;
        return open == null ? -1 : open.getNetworkTimeout();
    }

    private void closeConnection() {
        Connection open = connection;
        connection = null;
        if (open != null) {
            try {
                open.close();
            }
            catch (SQLException e) {
                // already broken
            }
        }
    }

    /**
     * The health connection is a resource of this bean, closed with it (the checks
     * stopped in their phase).
     */
    @Override
    public void close() {
        closeConnection();
    }

    private String expectedVersion() {
        String version = expectedVersion;
        if (version == null) {
            version = Arrays.stream(flyway.info().all())
                .map(MigrationInfo::getVersion)
                .filter(Objects::nonNull)
                .max(MigrationVersion::compareTo)
                .map(MigrationVersion::getVersion)
                .orElse("0");
            expectedVersion = version;
        }
        return version;
    }

    private record SchemaState(boolean migrated, boolean failed, int migrations) {
    }

}
