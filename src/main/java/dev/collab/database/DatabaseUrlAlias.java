package dev.collab.database;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Lets operators name the team database with {@code COLLAB_DATABASE_URL}
 * ({@code collab.database-url}) as well as the standard {@code SPRING_DATASOURCE_URL}; a
 * non-blank standard URL wins. The alias also takes the
 * {@code postgres://user:password@host:port/db} form that hosting platforms hand out, and
 * turns it into a JDBC URL plus credentials.
 */
class DatabaseUrlAlias implements EnvironmentPostProcessor {

    static final String ALIAS = "collab.database-url";
    static final String STANDARD = "spring.datasource.url";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        String alias = environment.getProperty(ALIAS);
        String standard = environment.getProperty(STANDARD);
        if (alias == null || alias.isBlank() || (standard != null && !standard.isBlank())) {
            return;
        }
        // addFirst: a blank SPRING_DATASOURCE_URL must not hide the alias.
        environment.getPropertySources()
            .addFirst(new MapPropertySource("collabDatabaseUrlAlias", toJdbc(alias.trim())));
    }

    static Map<String, Object> toJdbc(String url) {
        Map<String, Object> properties = new LinkedHashMap<>();
        if (!url.startsWith("postgres://") && !url.startsWith("postgresql://")) {
            properties.put(STANDARD, url);
            return properties;
        }
        URI uri = URI.create(url);
        String jdbc = "jdbc:postgresql://" + uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "")
                + (uri.getRawPath() == null ? "" : uri.getRawPath())
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        properties.put(STANDARD, jdbc);
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            properties.put("spring.datasource.username",
                    URLDecoder.decode(colon < 0 ? userInfo : userInfo.substring(0, colon), StandardCharsets.UTF_8));
            if (colon >= 0) {
                properties.put("spring.datasource.password",
                        URLDecoder.decode(userInfo.substring(colon + 1), StandardCharsets.UTF_8));
            }
        }
        return properties;
    }

}
