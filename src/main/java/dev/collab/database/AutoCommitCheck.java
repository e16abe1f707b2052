package dev.collab.database;

import java.sql.SQLException;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import dev.collab.ops.StartupCheckException;
import org.springframework.stereotype.Component;

/**
 * Appends made outside a transaction, run lease renewals and the batched notifications
 * are single statements that commit themselves: they need the pool's autocommit. With it
 * off, the pool rolls back what a connection did not commit when it comes back, so an
 * event that was acknowledged and streamed would vanish and its seq be handed out again.
 * A pool configured that way ({@code spring.datasource.hikari.auto-commit=false}) stops
 * the server at once instead.
 */
@Component
class AutoCommitCheck {

    AutoCommitCheck(DataSource dataSource) throws SQLException {
        if (dataSource.isWrapperFor(HikariDataSource.class)
                && !dataSource.unwrap(HikariDataSource.class).isAutoCommit()) {
            throw new StartupCheckException(
                    "spring.datasource.hikari.auto-commit is false, but collab-server's appends and lease renewals "
                            + "commit in their own statement and would be rolled back.",
                    "Remove spring.datasource.hikari.auto-commit (or SPRING_DATASOURCE_HIKARI_AUTO_COMMIT), or set it to true.");
        }
    }

}
