package dev.collab.workspace;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;

import javax.sql.DataSource;

import dev.collab.database.DedicatedConnections;

/**
 * One sweeper at a time across every replica sharing the database: a PostgreSQL
 * session-level advisory lock held on a dedicated connection, not one borrowed from the
 * pool (a pooled connection returned with the lock still held would keep it for whoever
 * borrows it next, and a lost unlock would block sweeps forever). Closing the connection
 * releases the lock in every path, also when this instance dies.
 */
final class SweepLock implements AutoCloseable {

    /** Arbitrary, fixed: "collab sweeper". */
    static final long KEY = 0x636f6c6c61625357L;

    private final Connection connection;

    private SweepLock(Connection connection) {
        this.connection = connection;
    }

    /** The lock, or empty when another instance holds it. */
    static Optional<SweepLock> tryAcquire(DataSource dataSource) throws SQLException {
        Connection connection = dedicatedConnection(dataSource);
        try (var statement = connection.prepareStatement("select pg_try_advisory_lock(?)")) {
            statement.setLong(1, KEY);
            try (var result = statement.executeQuery()) {
                if (result.next() && result.getBoolean(1)) {
                    return Optional.of(new SweepLock(connection));
                }
            }
        }
        catch (SQLException | RuntimeException e) {
            connection.close();
            throw e;
        }
        connection.close();
        return Optional.empty();
    }

    private static Connection dedicatedConnection(DataSource dataSource) throws SQLException {
        return DedicatedConnections.open(dataSource, "collab-sweeper");
    }

    @Override
    public void close() {
        try (connection) {
            try (var statement = connection.prepareStatement("select pg_advisory_unlock(?)")) {
                statement.setLong(1, KEY);
                statement.execute();
            }
        }
        catch (SQLException e) {
            // Closing the connection (the try-with-resources above) releases the lock
            // anyway.
        }
    }

}
