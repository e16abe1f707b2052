package dev.collab.database;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import org.jspecify.annotations.Nullable;

/**
 * Connections outside the pool, for the few jobs that must hold one connection for a long
 * time: LISTEN for notifications, a session-level advisory lock. Pooled connections are
 * wrong for both (a lock or a LISTEN would stay with whoever borrows the connection
 * next). Same URL, user and driver settings as the pool.
 */
public final class DedicatedConnections {

    private DedicatedConnections() {
    }

    /**
     * @param applicationName shows in {@code pg_stat_activity.application_name}
     */
    public static Connection open(DataSource dataSource, String applicationName) throws SQLException {
        return open(dataSource, applicationName, null);
    }

    /**
     * @param socketTimeout how long a read of the connection may wait (null: no limit,
     * for a LISTEN that waits for notifications): a half-open socket otherwise blocks the
     * caller until TCP gives up, 15 minutes and more
     */
    public static Connection open(DataSource dataSource, String applicationName,
            java.time.@Nullable Duration socketTimeout) throws SQLException {
        HikariDataSource pool = dataSource.unwrap(HikariDataSource.class);
        Properties properties = new Properties();
        properties.putAll(pool.getDataSourceProperties());
        if (pool.getUsername() != null) {
            properties.setProperty("user", pool.getUsername());
        }
        if (pool.getPassword() != null) {
            properties.setProperty("password", pool.getPassword());
        }
        properties.setProperty("ApplicationName", applicationName);
        properties.setProperty("connectTimeout", "10");
        // Keeps an idle dedicated connection from being dropped silently by a NAT or
        // proxy.
        properties.setProperty("tcpKeepAlive", "true");
        if (socketTimeout != null) {
            properties.setProperty("socketTimeout", Long.toString(Math.max(1, socketTimeout.toSeconds())));
        }
        Connection connection = DriverManager.getConnection(pool.getJdbcUrl(), properties);
        try (var statement = connection.prepareStatement("select set_config('application_name', ?, false)")) {
            statement.setString(1, applicationName);
            statement.execute();
        }
        catch (SQLException e) {
            connection.close();
            throw e;
        }
        return connection;
    }

}
