package dev.collab;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * Entry point of collab-server: a team service that hosts coding-agent sessions.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class CollabServerApplication {

    public static void main(String[] args) {
        SpringApplication.run(CollabServerApplication.class, args);
    }
}
