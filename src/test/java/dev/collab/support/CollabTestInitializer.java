package dev.collab.support;

import org.springframework.boot.test.util.TestPropertyValues;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;

/**
 * Points every test application context at a database of its own on the shared test
 * server (team mode) and at a temp data directory of its own.
 */
@Order(Ordered.HIGHEST_PRECEDENCE)
public class CollabTestInitializer implements ApplicationContextInitializer<ConfigurableApplicationContext> {

    /** The shell script agent of the tests (src/test/resources/test-agent.sh). */
    public static String testAgent() {
        try {
            return new org.springframework.core.io.ClassPathResource("test-agent.sh").getFile().getAbsolutePath();
        }
        catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void initialize(ConfigurableApplicationContext context) {
        TestDatabase.Server server = TestDatabase.server();
        // A test class's own @TestPropertySource wins over these defaults.
        TestPropertyValues
            .of("spring.datasource.url=" + TestDatabase.newDatabase(), "spring.datasource.username=" + server.user(),
                    "spring.datasource.password=" + server.password(),
                    "collab.data-dir=" + TempDirectories.create("data-"), "collab.test.endpoints=true",
                    // The first admin, as whom Api authenticates by default.
                    "collab.auth.first-admin.login=" + Api.ADMIN_LOGIN,
                    "collab.auth.first-admin.password=" + Api.ADMIN_PASSWORD,
                    // Tests sweep on demand; a scheduled sweep must not run in the middle
                    // of them.
                    "collab.sweeper.initial-delay=1h", "collab.stream.heartbeat=500ms",
                    // A stalled stream client is cut off when a blocked write times out.
                    "server.jetty.connection-idle-timeout=3s", "collab.runner.command=sh," + testAgent(),
                    "collab.runner.timeout=4s", "collab.runner.lease=2s", "collab.runner.interrupt-grace=1s",
                    // Projects of the tests clone local bare repositories (GitRepos).
                    "collab.workspace.allow-file-repos=true")
            .and(java.util.stream.Stream.<String>empty())
            .applyTo(context.getEnvironment(), TestPropertyValues.Type.MAP, "collabTestDefaults");
        // The server stops with its context, and a later one may get its port: drop its
        // cached document.
        context.addApplicationListener(event -> {
            if (event instanceof org.springframework.context.event.ContextClosedEvent) {
                String port = context.getEnvironment().getProperty("local.server.port");
                if (port != null) {
                    ContractValidator.forget("http://localhost:" + port);
                }
            }
        });
        var sources = context.getEnvironment().getPropertySources();
        // Last: only the placeholders of the fake agents' commands read it.
        sources.addLast(FakeAgents.propertySource());
        String inlined = org.springframework.test.context.support.TestPropertySourceUtils.INLINED_PROPERTIES_PROPERTY_SOURCE_NAME;
        if (sources.contains(inlined)) {
            // Below the test class's own properties, above application.yaml.
            sources.addAfter(inlined, sources.remove("collabTestDefaults"));
        }
    }

}
