package dev.collab.database;

import dev.collab.ops.StartupCheckException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A team-mode-only build (the container image) started without a database URL says what
 * to set.
 */
@EnabledOnOs(OS.LINUX)
class ShippedBinariesTest {

    @Test
    void aBuildWithoutBinariesAsksForADatabaseUrl() {
        ClassLoader withoutBinaries = new ClassLoader(null) {
        };

        assertThatThrownBy(() -> BuiltInPostgres.requireShippedBinaries(withoutBinaries))
            .isInstanceOf(StartupCheckException.class)
            .hasMessageContaining("no built-in PostgreSQL")
            .satisfies(e -> org.assertj.core.api.Assertions.assertThat(((StartupCheckException) e).action())
                .contains("COLLAB_DATABASE_URL"));
    }

    @Test
    void theDefaultBuildHasThem() {
        assertThatCode(() -> BuiltInPostgres.requireShippedBinaries(getClass().getClassLoader()))
            .doesNotThrowAnyException();
    }

}
