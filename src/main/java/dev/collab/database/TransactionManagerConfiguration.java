package dev.collab.database;

import java.sql.Connection;
import java.sql.SQLException;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.transaction.autoconfigure.TransactionManagerCustomizers;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.datasource.ConnectionHolder;
import org.springframework.jdbc.datasource.JdbcTransactionObjectSupport;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.transaction.support.DefaultTransactionStatus;

/**
 * The transaction manager: Spring Boot's own ({@link JdbcTransactionManager}, with Boot's
 * {@code spring.transaction.*} customizers), except for a rollback on a connection that
 * is already dead (PostgreSQL restarted, {@code pg_terminate_backend}, the network cut).
 * <p>
 * Such a rollback cannot reach the server, and needs not: PostgreSQL rolls back the open
 * transaction of a connection when that connection ends, so nothing of it was committed
 * and nothing is lost. Spring's manager would throw "JDBC rollback failed" all the same,
 * and {@code TransactionTemplate} and {@code @Transactional} then log "Application
 * exception overridden by rollback exception" at ERROR and throw the rollback's failure
 * instead of the one that broke the work. Here that rollback is logged at DEBUG, and the
 * original failure reaches the caller (a 503 for a request, a retry for a run's end). A
 * rollback that fails on a connection that still works is thrown as before: that one may
 * leave something behind.
 */
@Configuration(proxyBeanMethods = false)
class TransactionManagerConfiguration {

    /**
     * Named as Boot's, which it replaces (Boot backs off when a transaction manager is
     * defined): Spring Data JDBC's repositories look it up by that name.
     */
    @Bean
    JdbcTransactionManager transactionManager(DataSource dataSource,
            ObjectProvider<TransactionManagerCustomizers> customizers) {
        JdbcTransactionManager manager = new DeadConnectionTolerantTransactionManager(dataSource);
        customizers.ifAvailable(customizer -> customizer.customize(manager));
        return manager;
    }

    /** Boot's manager, but a rollback on a dead connection is no failure. */
    static final class DeadConnectionTolerantTransactionManager extends JdbcTransactionManager {

        private static final Logger log = LoggerFactory.getLogger(TransactionManagerConfiguration.class);

        DeadConnectionTolerantTransactionManager(DataSource dataSource) {
            super(dataSource);
        }

        @Override
        protected void doRollback(DefaultTransactionStatus status) {
            try {
                super.doRollback(status);
            }
            catch (RuntimeException e) {
                if (!connectionDead(status, e)) {
                    throw e;
                }
                log.debug("Rollback on a dead connection skipped: PostgreSQL rolled the transaction back when the "
                        + "connection ended ({})", e.toString());
            }
        }

        /**
         * The rollback failed because the connection is gone: the driver says it lost the
         * connection (SQLSTATE class 08) or that the server ended it (57P01 terminated by
         * an administrator, 57P02 crash, 57P03 cannot connect now), or the pool already
         * closed it (Hikari closes a connection it saw break, and answers "Connection is
         * closed" from then on).
         */
        static boolean connectionDead(DefaultTransactionStatus status, RuntimeException failure) {
            for (Throwable t = failure; t != null; t = t.getCause()) {
                if (t instanceof SQLException sql && sql.getSQLState() != null
                        && (sql.getSQLState().startsWith("08") || sql.getSQLState().startsWith("57P"))) {
                    return true;
                }
            }
            if (status.getTransaction() instanceof JdbcTransactionObjectSupport transaction
                    && transaction.hasConnectionHolder()) {
                ConnectionHolder holder = transaction.getConnectionHolder();
                try {
                    Connection connection = holder.getConnection();
                    return connection.isClosed();
                }
                catch (SQLException | RuntimeException e) {
                    return false; // cannot tell: the rollback's failure stands
                }
            }
            return false;
        }

    }

}
