package dev.collab.support;

import java.util.ArrayList;
import java.util.List;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Starts a Spring Boot application holding only collab-server's
 * {@code @ConfigurationProperties} records, bound and validated as at the server's
 * startup, with the server's own failure analyzers: what an operator reads after a bad
 * {@code --collab.*} value, in a fraction of a second instead of a server process. A
 * database URL is given so that no built-in PostgreSQL starts; nothing connects to it.
 */
public final class SettingsStartup {

    private static final String REPORT_START = "APPLICATION FAILED TO START";

    private SettingsStartup() {
    }

    /**
     * Starts with these {@code --name=value} arguments, which must fail; returns Spring
     * Boot's report.
     */
    public static String failureReport(CapturedOutput output, String... args) {
        int from = output.toString().length();
        assertThatThrownBy(() -> start(args).close()).as("a start with %s", List.of(args))
            .isInstanceOf(RuntimeException.class);
        String printed = output.toString().substring(from);
        assertThat(printed).as("the failure report").contains(REPORT_START);
        return printed.substring(printed.indexOf(REPORT_START));
    }

    /**
     * Starts with these {@code --name=value} arguments, which must work; the caller
     * closes the context.
     */
    public static ConfigurableApplicationContext start(String... args) {
        List<String> all = new ArrayList<>(List.of("--spring.datasource.url=jdbc:postgresql://127.0.0.1:1/unused",
                "--collab.data-dir=" + TempDirectories.create("settings-")));
        all.addAll(List.of(args));
        return new SpringApplicationBuilder(PropertiesOnly.class).web(WebApplicationType.NONE)
            .run(all.toArray(String[]::new));
    }

    @Configuration(proxyBeanMethods = false)
    @ConfigurationPropertiesScan("dev.collab")
    static class PropertiesOnly {

    }

}
