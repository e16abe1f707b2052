package dev.collab.database;

import java.sql.SQLException;
import java.util.function.Supplier;

import javax.sql.DataSource;

import dev.collab.support.IntegrationTest;
import dev.collab.support.TestDatabase;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.aop.framework.ProxyFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionManager;
import org.springframework.transaction.annotation.AnnotationTransactionAttributeSource;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.interceptor.TransactionInterceptor;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The connection of a transaction dies in the middle of it (PostgreSQL restarted, an
 * operator's {@code pg_terminate_backend}): the work fails, and its rollback cannot reach
 * the server. Nothing was committed, so nothing is lost: the caller gets the failure that
 * broke the work (not "JDBC rollback failed" in its place), nothing is logged at ERROR,
 * and the next transaction works on a fresh connection. Both ways a transaction is
 * demarcated here: {@link TransactionTemplate} and {@code @Transactional}.
 */
@IntegrationTest
@ExtendWith(OutputCaptureExtension.class)
class RollbackOnDeadConnectionTest {

    @Autowired
    DataSource dataSource;

    @Autowired
    PlatformTransactionManager transactionManager;

    JdbcClient jdbc;

    JdbcClient admin;

    @BeforeEach
    void setUp() {
        jdbc = JdbcClient.create(dataSource);
        var server = TestDatabase.server();
        admin = JdbcClient
            .create(new DriverManagerDataSource(server.url("postgres"), server.user(), server.password()));
    }

    @Test
    void aTransactionTemplateRollbackOnADeadConnectionKeepsTheFailureAndLogsNoError(CapturedOutput output) {
        TransactionTemplate transaction = new TransactionTemplate(transactionManager);

        assertThatThrownBy(() -> transaction.execute(status -> workOnAConnectionThatDies()))
            .isInstanceOf(DataAccessException.class)
            .satisfies(RollbackOnDeadConnectionTest::endedByTheServer);

        assertNextTransactionWorks();
        assertNoError(output);
    }

    @Test
    void aTransactionalRollbackOnADeadConnectionKeepsTheFailureAndLogsNoError(CapturedOutput output) {
        // What @Transactional does to a bean: the same interceptor, around the same kind
        // of
        // work.
        ProxyFactory proxy = new ProxyFactory(new DyingWork(this::workOnAConnectionThatDies));
        proxy.addAdvice(new TransactionInterceptor((TransactionManager) transactionManager,
                new AnnotationTransactionAttributeSource()));
        Work work = (Work) proxy.getProxy();

        assertThatThrownBy(work::run).isInstanceOf(DataAccessException.class)
            .satisfies(RollbackOnDeadConnectionTest::endedByTheServer);

        assertNextTransactionWorks();
        assertNoError(output);
    }

    private void assertNextTransactionWorks() {
        Integer one = new TransactionTemplate(transactionManager)
            .execute(status -> jdbc.sql("select 1").query(Integer.class).single());
        assertThat(one).isEqualTo(1);
    }

    /**
     * In a transaction: a first statement, then the server ends the connection, then a
     * second statement, which fails.
     */
    private Integer workOnAConnectionThatDies() {
        Integer pid = jdbc.sql("select pg_backend_pid()").query(Integer.class).single();
        admin.sql("select pg_terminate_backend(:pid)").param("pid", pid).query().listOfRows();
        return jdbc.sql("select 1").query(Integer.class).single();
    }

    /**
     * The failure is the second statement's (the server ended the connection: 57P01, or
     * the driver saw it gone: class 08), not the rollback's.
     */
    private static void endedByTheServer(Throwable failure) {
        assertThat(failure).hasMessageNotContaining("rollback");
        String state = null;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                state = sql.getSQLState();
                break;
            }
        }
        assertThat(state).as("SQLSTATE of " + failure).matches("57P01|08.*");
    }

    private static void assertNoError(CapturedOutput output) {
        assertThat(output.getAll().lines().filter(line -> line.matches("^\\S+\\s+ERROR .*")).toList()).as("ERROR lines")
            .isEmpty();
    }

    /** Work in a transaction. */
    interface Work {

        Integer run();

    }

    /** A bean's method as {@code @Transactional} marks it. */
    static final class DyingWork implements Work {

        private final Supplier<Integer> work;

        DyingWork(Supplier<Integer> work) {
            this.work = work;
        }

        @Override
        @Transactional
        public Integer run() {
            return work.get();
        }

    }

}
