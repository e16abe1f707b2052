package dev.collab.database;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import dev.collab.CollabProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationFailedEvent;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;

/**
 * Starts the built-in PostgreSQL the moment the application context exists, on its own
 * thread, so initdb and the postmaster start overlap with the rest of Spring's startup
 * instead of preceding it (boot to readiness is a target: docs/performance.md). The
 * {@code builtInPostgres} bean waits for it; a startup that fails before that bean exists
 * still stops the server.
 */
@Order(Ordered.LOWEST_PRECEDENCE)
class BuiltInPostgresStartup implements ApplicationContextInitializer<ConfigurableApplicationContext> {

    static final String BEAN_NAME = "builtInPostgresStartup";

    private static final Logger log = LoggerFactory.getLogger(BuiltInPostgresStartup.class);

    @Override
    @SuppressWarnings("NullAway") // CollabProperties turns a null data-dir into its
                                  // default
    public void initialize(ConfigurableApplicationContext context) {
        String url = context.getEnvironment().getProperty(DatabaseUrlAlias.STANDARD);
        if ((url != null && !url.isBlank()) || context.getBeanFactory().containsSingleton(BEAN_NAME)) {
            return;
        }
        CollabProperties properties = Binder.get(context.getEnvironment())
            .bind("collab", CollabProperties.class)
            .orElseGet(() -> new CollabProperties(null));
        // A thread of its own, not a scheduled task or a lifecycle: this runs before any
        // bean
        // exists (the scheduler among them), and the start must overlap the making of the
        // beans.
        // It ends when PostgreSQL is up; the builtInPostgres bean owns the server from
        // then on and
        // stops it at bean destruction, after every lifecycle (ops.ShutdownOrder).
        Pending pending = new Pending(CompletableFuture.supplyAsync(
                () -> BuiltInPostgres.start(properties.dataDir().resolve("postgres"),
                        properties.dataDir().resolve("postgres-binaries")),
                runnable -> Thread.ofPlatform().daemon().name("builtin-postgres-start").start(runnable)));
        context.getBeanFactory().registerSingleton(BEAN_NAME, pending);
        context.addApplicationListener(new StopOnFailedStart(pending));
    }

    /**
     * A typed listener class, not a lambda: Spring cannot see a lambda's event type, so
     * it would call a lambda for every event (one per HTTP request among them) and
     * swallow a ClassCastException each time; that was measured in a reconnect storm
     * (docs/performance.md).
     */
    private record StopOnFailedStart(Pending pending) implements ApplicationListener<ApplicationFailedEvent> {

        @Override
        public void onApplicationEvent(ApplicationFailedEvent event) {
            pending.stopIfStarted();
        }
    }

    /**
     * The server being started; {@link #await()} hands it over or rethrows why it could
     * not start.
     */
    static final class Pending {

        private final CompletableFuture<BuiltInPostgres> server;

        Pending(CompletableFuture<BuiltInPostgres> server) {
            this.server = server;
        }

        BuiltInPostgres await() {
            try {
                return server.join();
            }
            catch (CompletionException e) {
                if (e.getCause() instanceof RuntimeException runtime) {
                    throw runtime;
                }
                throw e;
            }
        }

        void stopIfStarted() {
            server.thenAccept(postgres -> {
                try {
                    postgres.close();
                }
                catch (IOException e) {
                    log.warn("Could not stop the built-in PostgreSQL after a failed start: {}", e.getMessage());
                }
            }).exceptionally(failure -> null).join();
        }

    }

}
