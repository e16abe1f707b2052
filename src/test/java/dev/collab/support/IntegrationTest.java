package dev.collab.support;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.ContextConfiguration;

/**
 * A test against the real server over real HTTP, with its own database and temp data
 * directory. Contexts are cached, so test classes with the same setup share one server. A
 * test class gets a client of it with {@code @Autowired Api api}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ContextConfiguration(initializers = CollabTestInitializer.class)
@Import({ TestClockConfiguration.class, TestApiConfiguration.class })
public @interface IntegrationTest {

}
