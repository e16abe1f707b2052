package dev.collab.run;

import java.io.IOException;

import javax.sql.DataSource;

import dev.collab.support.Api;
import dev.collab.workspace.Workspaces;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The set-up of the database-outage tests of agent output: outage-agent.sh as the agent,
 * an {@link Api} and an {@link Outage} for each test, and the database always back after
 * it. The subclasses bring their own runner properties (lease, bound).
 */
abstract class OutageTestBase {

    @Autowired
    DataSource dataSource;

    @Autowired
    Workspaces workspaces;

    @Autowired
    Api api;

    Outage outage;

    @DynamicPropertySource
    static void agent(DynamicPropertyRegistry registry) throws IOException {
        Outage.useOutageAgent(registry);
    }

    @BeforeEach
    void setUp() {
        outage = new Outage(api, dataSource);
    }

    @AfterEach
    void restore() {
        outage.end();
    }

}
