package dev.collab.support;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Lazy;

/**
 * The {@link Api} of the server an {@link IntegrationTest} starts, for
 * {@code @Autowired Api api} in test classes (instead of each one reading
 * {@code @LocalServerPort} and making its own).
 */
@TestConfiguration(proxyBeanMethods = false)
class TestApiConfiguration {

    /**
     * Lazy: the random port is known only once the web server has started, after the
     * context.
     */
    @Bean
    @Lazy
    Api api(@Value("${local.server.port}") int port) {
        return new Api(port);
    }

}
