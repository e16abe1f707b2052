package dev.collab.ops;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Which value of LOG_FORMAT / collab.log-format picks which console format (the process
 * tests show the output).
 */
class LogFormatTest {

    private static StandardEnvironment environment(Map<String, Object> properties) {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().addFirst(new MapPropertySource("test", properties));
        new LogFormat().postProcessEnvironment(environment, new SpringApplication());
        return environment;
    }

    @Test
    void jsonIsEcsWithTheBuildVersion() {
        StandardEnvironment environment = environment(Map.of("LOG_FORMAT", " JSON "));
        assertThat(environment.getProperty("logging.structured.format.console")).isEqualTo("ecs");
        assertThat(environment.getProperty("logging.structured.ecs.service.version")).isNotBlank();
    }

    @Test
    void unsetEmptyOrTextKeepTheHumanReadablePattern() {
        for (Map<String, Object> given : java.util.List.<Map<String, Object>>of(Map.of(), Map.of("LOG_FORMAT", ""),
                Map.of("LOG_FORMAT", "text"))) {
            assertThat(environment(given).getProperty("logging.structured.format.console")).as(given.toString())
                .isNull();
        }
    }

    @Test
    void thePropertyWinsOverTheVariable() {
        assertThat(environment(Map.of("LOG_FORMAT", "text", "collab.log-format", "json"))
            .getProperty("logging.structured.format.console")).isEqualTo("ecs");
        assertThat(environment(Map.of("LOG_FORMAT", "json", "collab.log-format", "text"))
            .getProperty("logging.structured.format.console")).isNull();
    }

    @Test
    void anExplicitStructuredFormatIsKept() {
        assertThat(environment(Map.of("LOG_FORMAT", "json", "logging.structured.format.console", "logstash"))
            .getProperty("logging.structured.format.console")).isEqualTo("logstash");
    }

    @Test
    void anythingElseIsAStartupCheckNamingWhereItCameFrom() {
        assertThatThrownBy(() -> environment(Map.of("LOG_FORMAT", "xml"))).isInstanceOf(StartupCheckException.class)
            .hasMessage("LOG_FORMAT is 'xml', which is not a log format: use json or text.");
        assertThatThrownBy(() -> environment(Map.of("collab.log-format", "yaml")))
            .isInstanceOf(StartupCheckException.class)
            .hasMessageStartingWith("collab.log-format is 'yaml'");
    }

}
