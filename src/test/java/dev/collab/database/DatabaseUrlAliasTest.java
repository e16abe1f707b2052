package dev.collab.database;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

class DatabaseUrlAliasTest {

    private static MockEnvironment process(MockEnvironment environment) {
        new DatabaseUrlAlias().postProcessEnvironment(environment, null);
        return environment;
    }

    @Test
    void jdbcAliasBecomesTheDatasourceUrl() {
        var environment = process(
                new MockEnvironment().withProperty("collab.database-url", "jdbc:postgresql://db:5432/collab"));
        assertThat(environment.getProperty("spring.datasource.url")).isEqualTo("jdbc:postgresql://db:5432/collab");
    }

    @Test
    void standardUrlWins() {
        var environment = process(new MockEnvironment().withProperty("collab.database-url", "jdbc:postgresql://alias/x")
            .withProperty("spring.datasource.url", "jdbc:postgresql://standard/x"));
        assertThat(environment.getProperty("spring.datasource.url")).isEqualTo("jdbc:postgresql://standard/x");
    }

    @Test
    void blankStandardUrlDoesNotHideTheAlias() {
        var environment = process(new MockEnvironment().withProperty("collab.database-url", "jdbc:postgresql://alias/x")
            .withProperty("spring.datasource.url", " "));
        assertThat(environment.getProperty("spring.datasource.url")).isEqualTo("jdbc:postgresql://alias/x");
    }

    @Test
    void platformStyleUrlIsTranslated() {
        Map<String, Object> properties = DatabaseUrlAlias
            .toJdbc("postgres://collab:p%40ss@db.internal:6543/collab?sslmode=require");
        assertThat(properties)
            .containsEntry("spring.datasource.url", "jdbc:postgresql://db.internal:6543/collab?sslmode=require")
            .containsEntry("spring.datasource.username", "collab")
            .containsEntry("spring.datasource.password", "p@ss");
    }

    @Test
    void builtInModeOnlyWithoutAUrl() {
        var condition = new BuiltInDatabaseCondition();
        assertThat(condition.matches(new org.springframework.context.annotation.ConditionContext() {
            final MockEnvironment environment = new MockEnvironment();

            public org.springframework.beans.factory.support.BeanDefinitionRegistry getRegistry() {
                return null;
            }

            public org.springframework.beans.factory.config.ConfigurableListableBeanFactory getBeanFactory() {
                return null;
            }

            public org.springframework.core.env.Environment getEnvironment() {
                return environment;
            }

            public org.springframework.core.io.ResourceLoader getResourceLoader() {
                return null;
            }

            public ClassLoader getClassLoader() {
                return null;
            }
        }, null)).isTrue();
    }

}
