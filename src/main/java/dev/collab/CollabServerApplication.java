package dev.collab;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * Entry point of collab-server: a team service that hosts coding-agent sessions.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
public class CollabServerApplication {

    static final String CARRIER_PARALLELISM = "jdk.virtualThreadScheduler.parallelism";

    public static void main(String[] args) {
        useEnoughVirtualThreadCarriers();
        SpringApplication.run(CollabServerApplication.class, args);
    }

    /**
     * Requests run on virtual threads, which the JDK never time-slices. With one carrier
     * per core (the default), a few CPU-heavy requests hold every carrier and the rest
     * queue behind them: on 2 cores that put the session-list p99 at 35 ms. More carriers
     * than cores hand the time-slicing back to the OS (p99 4 ms; docs/performance.md). An
     * explicit {@code -Djdk.virtualThreadScheduler.parallelism} wins.
     */
    static void useEnoughVirtualThreadCarriers() {
        if (System.getProperty(CARRIER_PARALLELISM) == null) {
            int carriers = Math.max(8, 4 * Runtime.getRuntime().availableProcessors());
            System.setProperty(CARRIER_PARALLELISM, Integer.toString(carriers));
        }
    }

}
