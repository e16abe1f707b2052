package dev.collab.ops;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.sql.SQLException;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.core.env.Environment;
import org.springframework.dao.DataAccessException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.jdbc.support.SQLExceptionSubclassTranslator;
import org.springframework.jdbc.support.SQLExceptionTranslator;

/**
 * Turns a startup that cannot work into one clear line instead of a stack trace: our own
 * {@link StartupCheckException}s, and a team database that cannot be reached or logged
 * into.
 */
class StartupFailureAnalyzer implements FailureAnalyzer {

    /**
     * PostgreSQL's "invalid authorization" class (28000 bad user, 28P01 bad password) and
     * 3D000 "database does not exist". Spring has no translated type for them (its SQL
     * state translation leaves classes 28 and 3D alone, and PgJDBC does not throw the
     * JDBC 4 subclasses that would make them a
     * {@code PermissionDeniedDataAccessException}), so the state is checked.
     */
    private static final String INVALID_AUTHORIZATION_CLASS = "28";

    private static final String DATABASE_MISSING = "3D000";

    /**
     * Translates as JdbcTemplate does: Hikari and Flyway hand us raw
     * {@link SQLException}s at startup.
     */
    private static final SQLExceptionTranslator TRANSLATOR = new SQLExceptionSubclassTranslator();

    private final Environment environment;

    StartupFailureAnalyzer(Environment environment) {
        this.environment = environment;
    }

    @Override
    public @Nullable FailureAnalysis analyze(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof StartupCheckException check) {
                return new FailureAnalysis(check.getMessage(), check.action(), check);
            }
        }
        SQLException sql = databaseConnectionFailure(failure);
        if (sql != null) {
            String url = redact(environment.getProperty("spring.datasource.url", "(built-in database)"));
            return new FailureAnalysis("Cannot connect to the database at " + url + ": " + firstLine(sql.getMessage()),
                    "Check spring.datasource.url, spring.datasource.username and spring.datasource.password "
                            + "(or COLLAB_DATABASE_URL), and that the database accepts connections from this host.",
                    failure);
        }
        return null;
    }

    /**
     * A database that cannot be reached (what Spring translates to a
     * {@link DataAccessResourceFailureException}: connection failures, class 08, a server
     * starting up or shutting down, class 57, out of connections, class 53; or to a
     * {@link TransientDataAccessResourceException}: the pool's connection timeout), bad
     * credentials or a missing database.
     */
    private static @Nullable SQLException databaseConnectionFailure(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && (isUnreachable(sql) || isRefusedLogin(sql))) {
                return sql;
            }
            if (t instanceof ConnectException || t instanceof UnknownHostException) {
                return new SQLException(t.toString(), "08001", t);
            }
        }
        return null;
    }

    private static boolean isUnreachable(SQLException sql) {
        DataAccessException translated = TRANSLATOR.translate("connect", null, sql);
        return translated instanceof DataAccessResourceFailureException
                || translated instanceof TransientDataAccessResourceException;
    }

    private static boolean isRefusedLogin(SQLException sql) {
        String state = sql.getSQLState();
        return state != null && (state.startsWith(INVALID_AUTHORIZATION_CLASS) || state.equals(DATABASE_MISSING));
    }

    /** A JDBC URL may carry credentials in its query string; never print them. */
    static String redact(String url) {
        int query = url.indexOf('?');
        return query < 0 ? url : url.substring(0, query);
    }

    private static String firstLine(@Nullable String message) {
        if (message == null) {
            return "no reason given";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

}
