package dev.collab.web;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Endpoints that exist only on the test classpath and only with
 * {@code collab.test.endpoints=true}: appending events, an unexpected failure, an async
 * request (which may fail too), and a slow request that holds a database connection (to
 * prove the drain on shutdown finishes it before PostgreSQL stops).
 */
@RestController
@ConditionalOnProperty(name = "collab.test.endpoints", havingValue = "true")
class TestEndpoints {

    /** An SQLSTATE: five digits or upper-case letters (also keeps the SQL below safe). */
    private static final java.util.regex.Pattern SQL_STATE = java.util.regex.Pattern.compile("[0-9A-Z]{5}");

    private final JdbcClient jdbc;

    private final javax.sql.DataSource dataSource;

    private final dev.collab.event.EventLog eventLog;

    TestEndpoints(JdbcClient jdbc, javax.sql.DataSource dataSource, dev.collab.event.EventLog eventLog) {
        this.jdbc = jdbc;
        this.dataSource = dataSource;
        this.eventLog = eventLog;
    }

    /**
     * Appends {@code count} output events, each in its own transaction, as a runner
     * would.
     */
    @org.springframework.web.bind.annotation.PostMapping("/test/sessions/{id}/events")
    long append(@org.springframework.web.bind.annotation.PathVariable java.util.UUID id,
            @RequestParam(defaultValue = "1") int count, @RequestParam(defaultValue = "16") int size) {
        long last = 0;
        String text = "x".repeat(size);
        for (int i = 0; i < count; i++) {
            last = eventLog
                .append(id, "output", java.util.Map.of("runId", id.toString(), "stream", "stdout", "text", text))
                .seq();
        }
        return last;
    }

    @GetMapping("/test/boom")
    String boom() {
        throw new IllegalStateException("select secret from internals at /etc/secret");
    }

    /**
     * An async request, answered after {@code millis} from another thread; {@code fail}
     * makes it a 500.
     */
    @GetMapping("/test/async")
    org.springframework.web.context.request.async.DeferredResult<String> async(
            @RequestParam(defaultValue = "200") long millis, @RequestParam(defaultValue = "false") boolean fail) {
        var result = new org.springframework.web.context.request.async.DeferredResult<String>();
        java.util.concurrent.CompletableFuture.delayedExecutor(millis, java.util.concurrent.TimeUnit.MILLISECONDS)
            .execute(() -> {
                if (fail) {
                    result.setErrorResult(new IllegalStateException("async boom"));
                }
                else {
                    result.setResult("done after " + millis + " ms");
                }
            });
        return result;
    }

    /**
     * Makes PostgreSQL itself fail a statement with SQLSTATE {@code state}, through
     * Spring's template ({@code via=template}, translated) or plain JDBC
     * ({@code via=raw}: the raw {@link java.sql.SQLException} reaches the error handling,
     * as from the streams' own connections).
     */
    @GetMapping("/test/sql-state")
    String sqlState(@RequestParam String state, @RequestParam(defaultValue = "raw") String via)
            throws java.sql.SQLException {
        if (!SQL_STATE.matcher(state).matches()) {
            throw new IllegalArgumentException("not an SQLSTATE: " + state);
        }
        String failing = "do $$ begin raise exception 'failing on purpose' using errcode = '" + state + "'; end $$";
        if (via.equals("template")) {
            jdbc.sql(failing).update();
        }
        else {
            try (java.sql.Connection connection = dataSource.getConnection();
                    java.sql.Statement statement = connection.createStatement()) {
                statement.execute(failing);
            }
        }
        return "no failure";
    }

    @GetMapping("/test/slow")
    String slow(@RequestParam(defaultValue = "1.5") double seconds) {
        jdbc.sql("select pg_sleep(:seconds)").param("seconds", seconds).query().singleValue();
        return jdbc.sql("select 'done after ' || :seconds || 's'")
            .param("seconds", seconds)
            .query(String.class)
            .single();
    }

}
