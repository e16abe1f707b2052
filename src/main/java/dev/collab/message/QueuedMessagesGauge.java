package dev.collab.message;

import java.time.Clock;
import java.time.Duration;

import javax.sql.DataSource;

import dev.collab.ops.BackgroundRead;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.stereotype.Component;

/**
 * {@code collab_messages_queued}: the messages waiting in the queues of all sessions, on
 * every instance alike (the count is the database's, not this instance's). Read every
 * {@link #INTERVAL} in the background, so a scrape never waits for the database and still
 * answers, with the last count, while it is down.
 */
@Component
class QueuedMessagesGauge extends BackgroundRead<Long> {

    static final Duration INTERVAL = Duration.ofSeconds(5);

    /**
     * Seconds a count may take: far more than the partial index needs, and well under the
     * interval, so a stuck database shows as a failed read rather than a hung one.
     */
    private static final int QUERY_TIMEOUT_SECONDS = 2;

    private final JdbcClient jdbc;

    QueuedMessagesGauge(DataSource dataSource, TaskScheduler scheduler, Clock clock, MeterRegistry registry) {
        super("the length of the message queues (collab_messages_queued)", INTERVAL, scheduler, clock);
        JdbcTemplate template = new JdbcTemplate(dataSource);
        template.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
        this.jdbc = JdbcClient.create(template);
        Gauge.builder("collab.messages.queued", this, gauge -> gauge.last().map(last -> last.value()).orElse(0L))
            .description("Messages waiting in the queues of all sessions (cluster-wide, read every few seconds)")
            .register(registry);
    }

    @Override
    @SuppressWarnings("NullAway") // count(*) is never null
    protected Long read() {
        // The partial index queued_messages_waiting_idx holds exactly the QUEUED rows.
        return jdbc.sql("select count(*) from queued_messages where state = 'QUEUED'").query(Long.class).single();
    }

}
