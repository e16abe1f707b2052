package dev.collab.web;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which failures are the database's (a 503 the client may retry) and which are not, for
 * the ways they reach {@link ProblemHandler}: translated by Spring's templates, or raw
 * from plain JDBC. The outage tests show the answers end to end; this pins the SQL states
 * an outage test cannot easily provoke (an administrator's shutdown, a server starting
 * up).
 */
class DatabaseFailureClassificationTest {

    @ParameterizedTest
    @ValueSource(strings = { "08006", "08003", "57P01", "57P03" })
    void aRawConnectionLossIsUnavailable(String state) {
        assertThat(ProblemHandler.isDatabaseUnavailable(
                new IllegalStateException("read failed", new SQLException("connection lost", state))))
            .isTrue();
    }

    /**
     * Raw failures that Spring's translation (the same one its templates apply) calls a
     * resource failure or a transient one: out of resources (class 53: disk full, out of
     * memory, too many connections), a program limit (class 54), a statement timeout or
     * cancel (57014), a system error (class 58), a serialization failure (40001) or a
     * deadlock (40P01). A 503 the client may retry, as through the templates; before the
     * translation (issue 12) only 08 and 57P were, and these raw ones answered 500.
     */
    @ParameterizedTest
    @ValueSource(strings = { "53100", "53200", "53300", "54000", "57014", "58030", "40001", "40P01" })
    void aRawResourceOrTransientFailureIsUnavailableButNotBusy(String state) {
        SQLException raw = new SQLException("failed", state);
        assertThat(ProblemHandler.isDatabaseUnavailable(new IllegalStateException("read failed", raw))).isTrue();
        assertThat(ProblemHandler.isDatabaseBusy(raw)).as("busy is only a pool or queue timeout").isFalse();
    }

    /**
     * A lock not available (55P03, from {@code lock_timeout} or {@code nowait}) has no
     * type in Spring's SQL-state translation, through the templates or raw: a fault of
     * ours (500), since nothing here sets a lock timeout on a request's path.
     */
    @ParameterizedTest
    @ValueSource(strings = { "55P03", "55000", "XX000" })
    void aRawLockNotAvailableOrInternalErrorIsNotUnavailable(String state) {
        assertThat(ProblemHandler.isDatabaseUnavailable(new SQLException("failed", state))).isFalse();
    }

    @Test
    void aClosedPooledConnectionIsUnavailable() {
        assertThat(ProblemHandler.isDatabaseUnavailable(new SQLException("Connection is closed"))).isTrue();
    }

    @Test
    void springsTranslatedConnectionFailuresAreUnavailable() {
        assertThat(ProblemHandler.isDatabaseUnavailable(
                new CannotGetJdbcConnectionException("no connection", new SQLException("refused", "08001"))))
            .isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = { "23505", "22P02", "42P01" })
    void aRawStatementErrorIsNotTheDatabasesFault(String state) {
        assertThat(ProblemHandler.isDatabaseUnavailable(new SQLException("bad statement", state))).isFalse();
        assertThat(ProblemHandler.isDatabaseBusy(new SQLException("bad statement", state))).isFalse();
    }

    @Test
    void translatedDataErrorsAreNotTheDatabasesFault() {
        assertThat(ProblemHandler
            .isDatabaseUnavailable(new DuplicateKeyException("dup", new SQLException("dup", "23505")))).isFalse();
        assertThat(ProblemHandler.isDatabaseUnavailable(new DataIntegrityViolationException("bad"))).isFalse();
        assertThat(ProblemHandler.isDatabaseUnavailable(new SQLException("Connection is closed", "23505"))).isFalse();
    }

    @Test
    void anExhaustedPoolIsBusyButAnUnreachableDatabaseIsNot() {
        SQLTransientConnectionException exhausted = new SQLTransientConnectionException(
                "HikariPool-1 - Connection is not available, request timed out after 2000ms");
        assertThat(ProblemHandler.isDatabaseBusy(new CannotGetJdbcConnectionException("no connection", exhausted)))
            .isTrue();
        SQLTransientConnectionException unreachable = new SQLTransientConnectionException(
                "HikariPool-1 - Connection is not available, request timed out after 2000ms", "08001",
                new SQLException("Connection refused", "08001"));
        assertThat(ProblemHandler.isDatabaseBusy(new CannotGetJdbcConnectionException("no connection", unreachable)))
            .isFalse();
        assertThat(ProblemHandler.isDatabaseUnavailable(unreachable)).isTrue();
    }

}
