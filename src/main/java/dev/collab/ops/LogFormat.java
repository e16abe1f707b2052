package dev.collab.ops;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Chooses the console log format from {@code LOG_FORMAT} (or {@code collab.log-format},
 * which wins when both are set): {@code json} turns on Spring Boot's structured logging
 * in Elastic Common Schema format, one JSON object per line; unset, empty or {@code text}
 * keeps the human-readable pattern. Anything else stops the server at once with one clear
 * line.
 * <p>
 * This runs as an environment post-processor because logging is set up right after them,
 * long before any bean exists.
 */
class LogFormat implements EnvironmentPostProcessor {

    static final String VARIABLE = "LOG_FORMAT";
    static final String PROPERTY = "collab.log-format";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        String source = PROPERTY;
        String value = environment.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            source = VARIABLE;
            value = environment.getProperty(VARIABLE);
        }
        String format = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        switch (format) {
            case "", "text" -> {
                // Spring Boot's pattern (application.yaml adds the request id after the
                // level).
            }
            case "json" -> json(environment);
            default -> throw new StartupCheckException(
                    source + " is '" + value + "', which is not a log format: use json or text.",
                    "Set " + source + " to json (one ECS JSON object per line) or text (human-readable, the default),"
                            + " or leave it unset.");
        }
    }

    private static void json(ConfigurableEnvironment environment) {
        Map<String, Object> format = new LinkedHashMap<>();
        format.put("logging.structured.format.console", "ecs");
        // Only used when a log file is configured (logging.file.name): JSON there too.
        format.put("logging.structured.format.file", "ecs");
        // service.name defaults to spring.application.name (collab-server); the version
        // comes from the build.
        String version = buildVersion();
        if (version != null) {
            format.put("logging.structured.ecs.service.version", version);
        }
        // Last: any of these set explicitly (LOGGING_STRUCTURED_FORMAT_CONSOLE=logstash…)
        // wins.
        environment.getPropertySources().addLast(new MapPropertySource("collabLogFormat", format));
    }

    /**
     * {@code build.version} of META-INF/build-info.properties (written by the build), if
     * present.
     */
    private static @Nullable String buildVersion() {
        try (InputStream in = LogFormat.class.getClassLoader().getResourceAsStream("META-INF/build-info.properties")) {
            if (in == null) {
                return null;
            }
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("build.version");
        }
        catch (IOException e) {
            return null;
        }
    }

}
