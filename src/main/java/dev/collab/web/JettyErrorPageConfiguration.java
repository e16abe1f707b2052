package dev.collab.web;

import org.springframework.boot.jetty.JettyServerCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Installs {@link ProblemErrorHandler} as Jetty's error page. */
@Configuration(proxyBeanMethods = false)
class JettyErrorPageConfiguration {

    @Bean
    JettyServerCustomizer problemErrorHandler(AccessLog accessLog) {
        return server -> server.setErrorHandler(new ProblemErrorHandler(accessLog));
    }
}
