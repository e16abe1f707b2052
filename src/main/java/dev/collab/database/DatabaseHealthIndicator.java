package dev.collab.database;

import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;

import dev.collab.ops.BackgroundHealthIndicator;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationVersion;
import org.springframework.boot.health.contributor.Health;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * The {@code db} health component, part of readiness: the database answers and carries every
 * migration this build knows (a replica never takes traffic on a schema older than its code).
 * Replaces Boot's plain connectivity check under the same name.
 */
@Component("dbHealthIndicator")
class DatabaseHealthIndicator extends BackgroundHealthIndicator {

    private final JdbcClient jdbc;
    private final Flyway flyway;
    private volatile String expectedVersion;

    DatabaseHealthIndicator(JdbcClient jdbc, Flyway flyway) {
        super("db", Duration.ofSeconds(2));
        this.jdbc = jdbc;
        this.flyway = flyway;
    }

    @Override
    protected String failureReason(Exception e) {
        return "database not reachable";
    }

    @Override
    protected Health check() {
        Health.Builder builder = new Health.Builder();
        String expected = expectedVersion();
        var state = jdbc.sql("""
                        select exists (select 1 from flyway_schema_history where version = :expected and success) as migrated,
                               exists (select 1 from flyway_schema_history where not success) as failed,
                               (select max(installed_rank) from flyway_schema_history) as migrations
                        """)
                .param("expected", expected)
                .query((rs, row) -> new SchemaState(rs.getBoolean("migrated"), rs.getBoolean("failed"), rs.getInt("migrations")))
                .single();
        builder.withDetail("database", "PostgreSQL").withDetail("schemaVersion", expected);
        if (state.migrated() && !state.failed()) {
            builder.up();
        } else {
            builder.outOfService().withDetail("reason",
                    state.failed() ? "a migration failed" : "schema not migrated to version " + expected);
        }
        return builder.build();
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
