package dev.collab.ops;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.BeanCreationException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which database failures at startup become the one clear "Cannot connect" line, whatever
 * wraps them (Hikari, Flyway, a bean that failed). The process test covers the refused
 * connection end to end; these are the SQL states a team database answers with, which a
 * test cannot provoke from a real server as cheaply (a wrong password, a missing
 * database, a server starting up).
 */
class StartupFailureAnalyzerTest {

    private final StartupFailureAnalyzer analyzer = new StartupFailureAnalyzer(
            new MockEnvironment().withProperty("spring.datasource.url", "jdbc:postgresql://db/collab?password=secret"));

    @ParameterizedTest
    @ValueSource(strings = { "08001", "08006", "57P03", "53300", "28P01", "28000", "3D000" })
    void aDatabaseThatCannotBeReachedOrLoggedIntoIsOneClearLine(String state) {
        FailureAnalysis analysis = analyzer
            .analyze(startupFailure(new SQLException("FATAL: no (" + state + ")\nmore", state)));
        assertThat(analysis).isNotNull();
        assertThat(analysis.getDescription())
            .isEqualTo("Cannot connect to the database at jdbc:postgresql://db/collab: FATAL: no (" + state + ")");
        assertThat(analysis.getAction()).contains("Check spring.datasource.url");
    }

    @org.junit.jupiter.api.Test
    void hikarisConnectionTimeoutIsOneClearLine() {
        assertThat(analyzer
            .analyze(startupFailure(new SQLTransientConnectionException("pool - Connection is not available"))))
            .isNotNull();
    }

    @ParameterizedTest
    @ValueSource(strings = { "42P01", "23505", "22P02" })
    void otherDatabaseErrorsAreLeftToTheDefaultReport(String state) {
        assertThat(analyzer.analyze(startupFailure(new SQLException("ERROR: something else", state)))).isNull();
    }

    private static Throwable startupFailure(SQLException cause) {
        return new BeanCreationException("flyway", "Failed to initialize", new IllegalStateException("migrate", cause));
    }

}
