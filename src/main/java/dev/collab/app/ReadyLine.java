package dev.collab.app;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * One INFO line once the server takes requests, with the address to open: the README's
 * run command ends with it, so a new user knows where the app is.
 */
@Component
class ReadyLine {

    private static final Logger log = LoggerFactory.getLogger(ReadyLine.class);

    private final Environment environment;

    ReadyLine(Environment environment) {
        this.environment = environment;
    }

    @EventListener(ApplicationReadyEvent.class)
    void ready() {
        String host = environment.getProperty("server.address", "localhost");
        String port = environment.getProperty("local.server.port", environment.getProperty("server.port", "8080"));
        log.info("collab-server is ready: open http://{}:{}/ in a browser.", host, port);
    }

}
