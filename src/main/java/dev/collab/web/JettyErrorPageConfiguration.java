package dev.collab.web;

import java.util.List;

import org.springframework.boot.jetty.JettyServerCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Jetty's own part of the request rules: {@link ProblemErrorHandler} as its error page,
 * and the {@link RequestHeadDeadline} on every connector. The management server (when
 * {@code management.server.port} is set) gets the same two from
 * {@link ManagementPortConfiguration}.
 */
@Configuration(proxyBeanMethods = false)
class JettyErrorPageConfiguration {

    @Bean
    JettyServerCustomizer problemErrorHandler(AccessLog accessLog) {
        return problemErrorHandlerOf(accessLog);
    }

    @Bean
    JettyServerCustomizer requestHeadDeadline(HttpProperties properties) {
        return requestHeadDeadlineOf(properties);
    }

    static JettyServerCustomizer problemErrorHandlerOf(AccessLog accessLog) {
        return server -> server.setErrorHandler(new ProblemErrorHandler(accessLog));
    }

    static JettyServerCustomizer requestHeadDeadlineOf(HttpProperties properties) {
        return server -> {
            if (properties.requestHeadTimeout().isPositive()) {
                server.addBean(
                        new RequestHeadDeadline(List.of(server.getConnectors()), properties.requestHeadTimeout()),
                        true);
            }
        };
    }

}
