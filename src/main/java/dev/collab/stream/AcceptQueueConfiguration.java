package dev.collab.stream;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.ServerConnector;
import org.springframework.boot.jetty.JettyServerCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * A listen backlog for reconnect storms. Jetty's default accept queue is 0, which the JDK
 * turns into a backlog of 50: with thousands of streams connecting at once (every viewer
 * after an instance restart) the kernel dropped the connections beyond it (1,364
 * {@code ListenOverflows} over the first runs of 200 and 1,000 streams) and each dropped
 * client waited for its SYN to be sent again, 1 s, then 3 s later: first-byte p90 1.25 s
 * and p99 3.2 s for 200 streams (docs/performance.md, "Reconnect storms"). Node.js
 * listens with 511. The kernel caps the value at {@code net.core.somaxconn} (4096 on
 * current Linux). Spring Boot 4 has no property for it.
 */
@Configuration(proxyBeanMethods = false)
class AcceptQueueConfiguration {

    static final int ACCEPT_QUEUE_SIZE = 4096;

    @Bean
    JettyServerCustomizer acceptQueue() {
        return server -> {
            for (Connector connector : server.getConnectors()) {
                if (connector instanceof ServerConnector serverConnector) {
                    serverConnector.setAcceptQueueSize(ACCEPT_QUEUE_SIZE);
                }
            }
        };
    }

}
