package dev.collab.database;

import java.util.Map;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Lets operators name the team database with {@code COLLAB_DATABASE_URL}
 * ({@code collab.database-url}) as well as the standard {@code SPRING_DATASOURCE_URL};
 * the standard one wins when both are set.
 */
class DatabaseUrlAlias implements EnvironmentPostProcessor {

    static final String ALIAS = "collab.database-url";
    static final String STANDARD = "spring.datasource.url";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        String alias = environment.getProperty(ALIAS);
        if (alias != null && !alias.isBlank() && !environment.containsProperty(STANDARD)) {
            environment.getPropertySources().addLast(new MapPropertySource("collabDatabaseUrlAlias", Map.of(STANDARD, alias)));
        }
    }
}
