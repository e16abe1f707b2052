package dev.collab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

import dev.collab.support.SettingsStartup;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A {@code collab.*} value that breaks its rule stops the startup with Spring Boot's
 * binding report: which setting, the value given, where it came from and why, and no
 * stack trace. The rules are constraints on the properties records; values at the edge of
 * a rule start.
 */
@ExtendWith(OutputCaptureExtension.class)
class ConfigurationValidationTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|',
            textBlock = """
                    collab.stream.max-replay=0                     | collab.stream.maxReplay          | must be greater than or equal to 1
                    collab.stream.max-replay=100001                | collab.stream.maxReplay          | must be less than or equal to 100000
                    collab.stream.heartbeat=0s                     | collab.stream.heartbeat          | must be longer than 0
                    collab.stream.buffer-events=999                | collab.stream.bufferEvents       | must be greater than or equal to 1000
                    collab.stream.max-connection-age=500ms         | collab.stream.maxConnectionAge   | must be longer than or equal to 1 second
                    collab.stream.recent-events-size=-1MB          | collab.stream.recentEventsSizeNotNegative | collab.stream.recent-events-size must not be negative
                    collab.stream.recent-events-total-size=-1B     | collab.stream.recentEventsTotalSizeNotNegative | collab.stream.recent-events-total-size must not be negative
                    collab.stream.concurrent-reads=0               | collab.stream.concurrentReads    | must be greater than or equal to 1
                    collab.stream.read-queue-timeout=-1s           | collab.stream.readQueueTimeout   | must be longer than 0
                    collab.stream.access-check-interval=999ms      | collab.stream.accessCheckInterval | must be longer than or equal to 1 second
                    collab.stream.access-check-interval=51s        | collab.stream.accessCheckInterval | must be shorter than or equal to 50 seconds
                    collab.sweeper.initial-delay=-1s               | collab.sweeper.initialDelay      | must be longer than or equal to 0
                    collab.sweeper.interval=0s                     | collab.sweeper.interval          | must be longer than 0
                    collab.sweeper.max-per-run=0                   | collab.sweeper.maxPerRun         | must be greater than or equal to 1
                    collab.sweeper.min-age=30s                     | collab.sweeper.minAge            | must be longer than or equal to 1 minute
                    collab.session.end-idle-after=0s               | collab.session.endIdleAfter      | must be longer than 0
                    collab.session.idle-end-batch=0                | collab.session.idleEndBatch      | must be greater than or equal to 1
                    collab.sweeper.delete-workers=65               | collab.sweeper.deleteWorkers     | must be less than or equal to 64
                    collab.sweeper.max-orphan-fraction=-0.01       | collab.sweeper.maxOrphanFraction | must be greater than or equal to 0
                    collab.sweeper.max-orphan-fraction=1.01        | collab.sweeper.maxOrphanFraction | must be less than or equal to 1
                    collab.sweeper.max-orphan-fraction=NaN         | collab.sweeper.maxOrphanFraction | must be less than or equal to 1
                    collab.sweeper.unknown-orphans-tolerated=-1    | collab.sweeper.unknownOrphansTolerated | must be greater than or equal to 0
                    collab.runner.timeout=0s                       | collab.runner.timeout            | must be longer than 0
                    collab.runner.lease=999ms                      | collab.runner.lease              | must be longer than or equal to 1 second
                    collab.runner.approval-timeout=999ms           | collab.runner.approvalTimeout    | must be longer than or equal to 1 second
                    collab.messages.max-queued=0                   | collab.messages.maxQueued        | must be greater than or equal to 1
                    collab.messages.max-queued=201                 | collab.messages.maxQueued        | must be less than or equal to 200
                    collab.runner.output-max-chars=255             | collab.runner.outputMaxChars     | must be greater than or equal to 256
                    collab.runner.output-max-pending-chars=16383   | collab.runner.outputMaxPendingCharsAtLeastOutputMaxChars | collab.runner.output-max-pending-chars must be at least collab.runner.output-max-chars
                    collab.runner.protocol=claude                  | collab.runner.protocol           | is not a protocol: use text, claude-code or opencode
                    collab.auth.session-timeout=59s                | collab.auth.sessionTimeout       | must be longer than or equal to 1 minute
                    collab.auth.setup-link-validity=59s            | collab.auth.setupLinkValidity    | must be longer than or equal to 1 minute
                    collab.auth.throttle.max-failures=0            | collab.auth.throttle.maxFailures | must be greater than or equal to 1
                    collab.auth.throttle.max-failures=1001         | collab.auth.throttle.maxFailures | must be less than or equal to 1000
                    collab.auth.throttle.window=999ms              | collab.auth.throttle.window      | must be longer than or equal to 1 second
                    collab.auth.cache-ttl=61s                      | collab.auth.cacheTtl             | must be shorter than or equal to 60 seconds
                    collab.auth.cache-ttl=-1s                      | collab.auth.cacheTtl             | must be longer than or equal to 0
                    collab.auth.cache-size=0                       | collab.auth.cacheSize            | must be greater than or equal to 1
                    collab.auth.allowed-origins=https://a.example/ | collab.auth.allowedOrigins[0]    | must match "https?://[A-Za-z0-9.\\[\\]:-]+"
                    collab.auth.allowed-origins=https://*.example.com | collab.auth.allowedOrigins[0] | must match "https?://[A-Za-z0-9.\\[\\]:-]+"
                    collab.auth.allowed-origins=https://a_b.example | collab.auth.allowedOrigins[0]  | must match "https?://[A-Za-z0-9.\\[\\]:-]+"
                    """)
    void aValueThatBreaksItsRuleStopsTheStartWithOneReport(String setting, String property, String reason,
            CapturedOutput output) {
        String report = SettingsStartup.failureReport(output, "--" + setting);

        assertThat(report).contains("Property: " + property)
            .contains("Reason: " + reason)
            .contains("Action:")
            .doesNotContain("\tat ")
            .doesNotContain("Caused by");
        String name = setting.substring(0, setting.indexOf('='));
        // Spring Boot gives no origin for a value in a nested record
        // (collab.auth.throttle.*)
        // or in a list (collab.auth.allowed-origins): the property and the value name it.
        boolean originKnown = !property.startsWith("collab.auth.throttle.") && !property.endsWith("]");
        if (originKnown && !property.endsWith("NotNegative") && !property.endsWith("AtLeastOutputMaxChars")) {
            assertThat(report).as("names the setting as the operator gave it")
                .contains("Origin: \"" + name + "\" from property source \"commandLineArgs\"");
        }
    }

    @Test
    void valuesAtTheEdgeOfTheirRulesStart() {
        try (ConfigurableApplicationContext context = SettingsStartup.start("--collab.stream.max-replay=1",
                "--collab.stream.max-connection-age=1s", "--collab.stream.recent-events-size=0B",
                "--collab.stream.buffer-events=1000", "--collab.sweeper.initial-delay=0s",
                "--collab.sweeper.min-age=1m", "--collab.sweeper.max-orphan-fraction=1",
                "--collab.sweeper.unknown-orphans-tolerated=0", "--collab.session.end-idle-after=1ms",
                "--collab.runner.lease=1s", "--collab.runner.approval-timeout=1s",
                "--collab.runner.output-max-chars=256", "--collab.runner.output-max-pending-chars=256",
                "--collab.http.request-head-timeout=0s", "--collab.auth.session-timeout=1m",
                "--collab.auth.setup-link-validity=1m", "--collab.auth.throttle.max-failures=1000",
                "--collab.auth.throttle.window=1s",
                "--collab.auth.allowed-origins=https://collab.example.com:8443,http://localhost:5173,http://[::1]:5173",
                "--collab.stream.access-check-interval=50s", "--collab.messages.max-queued=1")) {
            assertThat(context.isActive()).isTrue();
        }
    }

    /**
     * The first admin's login and password come together, and the login follows the login
     * rule; the report never shows the password.
     */
    @Test
    void aFirstAdminWithoutAPasswordOrWithABadLoginStopsTheStart(CapturedOutput output) {
        assertThat(SettingsStartup.failureReport(output, "--collab.auth.first-admin.login=owner"))
            .contains("collab.auth.first-admin.login and collab.auth.first-admin.password are set together")
            .doesNotContain("\tat ");
        assertThat(SettingsStartup.failureReport(output, "--collab.auth.first-admin.login=Owner",
                "--collab.auth.first-admin.password=a long enough password"))
            .contains("Property: collab.auth.firstAdmin.login")
            .contains("Reason: must match")
            .doesNotContain("a long enough password")
            .doesNotContain("\tat ");
    }

    @Test
    void aSettingThatMovedStopsTheStartInsteadOfBeingIgnored(CapturedOutput output) {
        String report = SettingsStartup.failureReport(output, "--collab.sweeper.end-idle-after=30d");

        assertThat(report).contains("collab.sweeper.end-idle-after").doesNotContain("\tat ");
    }

    @Test
    void theDefaultsStart() {
        try (ConfigurableApplicationContext context = SettingsStartup.start()) {
            assertThat(context.getBean(CollabProperties.class).dataDir()).isAbsolute();
        }
    }

}
