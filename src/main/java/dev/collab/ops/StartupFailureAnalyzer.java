package dev.collab.ops;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.sql.SQLException;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.core.env.Environment;

/**
 * Turns a startup that cannot work into one clear line instead of a stack trace: our own
 * {@link StartupCheckException}s, and a team database that cannot be reached or logged into.
 */
class StartupFailureAnalyzer implements FailureAnalyzer {

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
            return new FailureAnalysis(
                    "Cannot connect to the database at " + url + ": " + firstLine(sql.getMessage()),
                    "Check spring.datasource.url, spring.datasource.username and spring.datasource.password "
                            + "(or COLLAB_DATABASE_URL), and that the database accepts connections from this host.",
                    failure);
        }
        return null;
    }

    /** Connection failures (SQLState class 08), bad credentials (28) and a missing database (3D000). */
    private static @Nullable SQLException databaseConnectionFailure(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                if (state.startsWith("08") || state.startsWith("28") || state.equals("3D000")) {
                    return sql;
                }
            }
            if (t instanceof ConnectException || t instanceof UnknownHostException) {
                return new SQLException(t.toString(), "08001", t);
            }
        }
        return null;
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
