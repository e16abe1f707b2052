package dev.collab.workspace;

import java.lang.management.ManagementFactory;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;

import javax.sql.DataSource;

import dev.collab.ops.BackgroundRead;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.stereotype.Component;

/**
 * The sweeps of the whole cluster, in {@code sweep_runs}: every sweep that held the lock,
 * on any instance, records its report there, and every instance reads the newest ones
 * back every {@link #INTERVAL} in the background. So {@code collab_sweeper_backlog},
 * {@code collab_sweeper_last_run_timestamp_seconds} and the {@code cluster} part of
 * {@code /actuator/sweeper} say the same on every instance: what the cluster's latest
 * sweep found, whichever instance held the lock, and not what this instance saw the last
 * time it won it.
 *
 * <p>
 * Served from memory, never read on a scrape or a request (health and Actuator stay fast,
 * incident 1): while the database cannot be read, the gauges keep their last values and
 * the endpoint says it shows this instance only ({@link #fresh()}). Reads and writes have
 * short query timeouts. The history is bounded: each insert deletes the rows older than
 * {@link #KEPT_FOR} and beyond the newest {@link #KEPT_ROWS}.
 */
@Component
class SweepHistory extends BackgroundRead<SweepHistory.Cluster> {

    private static final Logger log = LoggerFactory.getLogger(SweepHistory.class);

    /** How often every instance reads the cluster's sweeps. */
    static final Duration INTERVAL = Duration.ofSeconds(5);

    static final Duration KEPT_FOR = Duration.ofDays(7);

    static final int KEPT_ROWS = 1000;

    /** Sweeps (and instances) in the cluster view, like the instance's own lastRuns. */
    static final int LISTED = 20;

    /** A read serves a scrape's cache: it must fail rather than hang. */
    private static final int READ_TIMEOUT_SECONDS = 2;

    /** An insert runs while the sweep still holds the lock: bounded too. */
    private static final int WRITE_TIMEOUT_SECONDS = 5;

    private static final String COLUMNS = """
            instance, started_at, finished_at, trigger, outcome, stopped, removed, failed, skipped, backlog,
            files_deleted, bytes_freed, workspaces, orphans, unknown""";

    private final JdbcClient reads;

    private final JdbcClient writes;

    private final Clock clock;

    /** This JVM, as {@code pid@host}: who swept, in the cluster view. */
    private final String instance = ManagementFactory.getRuntimeMXBean().getName();

    SweepHistory(DataSource dataSource, TaskScheduler scheduler, Clock clock, MeterRegistry registry) {
        super("the cluster's sweeps (sweep_runs)", INTERVAL, scheduler, clock);
        this.reads = client(dataSource, READ_TIMEOUT_SECONDS);
        this.writes = client(dataSource, WRITE_TIMEOUT_SECONDS);
        this.clock = clock;
        Gauge
            .builder("collab.sweeper.backlog", this,
                    history -> history.last().map(last -> last.value().backlog()).orElse(0))
            .description("Backlog of the cluster's latest sweep that listed the workspace root (any instance)")
            .register(registry);
        Gauge
            .builder("collab.sweeper.last.run.timestamp", this,
                    history -> history.last()
                        .map(last -> last.value().lastRunAt())
                        .map(at -> at.toEpochMilli() / 1000.0)
                        .orElse(0.0))
            .baseUnit("seconds")
            .description("When the cluster's latest sweep that ran to the end finished (epoch seconds; 0: none yet)")
            .register(registry);
    }

    private static JdbcClient client(DataSource dataSource, int timeoutSeconds) {
        JdbcTemplate template = new JdbcTemplate(dataSource);
        template.setQueryTimeout(timeoutSeconds);
        return JdbcClient.create(template);
    }

    /** This instance's name in the history. */
    String instance() {
        return instance;
    }

    /**
     * Records a sweep of this instance that held the lock (called before it releases it),
     * then reads the cluster's view again, so the gauges show it at once. Never throws: a
     * sweep is not undone because its record failed.
     * @param outcome {@code completed}, {@code partial} or {@code blocked}
     */
    void record(SweepReport report, String outcome) {
        // A sweep that the marker stopped did not list the root: its 0 is no backlog.
        boolean listed = report.stopped() == null || WorkspaceSweeper.ORPHAN_FRACTION.equals(report.stopped());
        insert(report, outcome, listed);
    }

    /**
     * Records a sweep of this instance that held the lock and then stopped as a whole (an
     * error): no counts.
     */
    void recordFailure(Instant startedAt, SweepReport.Trigger trigger) {
        insert(new SweepReport(startedAt, clock.instant(), trigger, 0, 0, 0, 0, 0, 0, 0, 0, 0, null), "failed", false);
    }

    private void insert(SweepReport report, String outcome, boolean listed) {
        try {
            long id = writes.sql("insert into sweep_runs (" + COLUMNS + ", listed) values (:instance, :startedAt,"
                    + " :finishedAt, :trigger, :outcome, :stopped, :removed, :failed, :skipped, :backlog, :filesDeleted,"
                    + " :bytesFreed, :workspaces, :orphans, :unknown, :listed) returning id")
                .param("instance", instance)
                .param("startedAt", utc(report.startedAt()))
                .param("finishedAt", utc(report.finishedAt()))
                .param("trigger", report.trigger().json())
                .param("outcome", outcome)
                .param("stopped", report.stopped())
                .param("removed", report.removed())
                .param("failed", report.failed())
                .param("skipped", report.skipped())
                .param("backlog", report.backlog())
                .param("filesDeleted", report.filesDeleted())
                .param("bytesFreed", report.bytesFreed())
                .param("workspaces", report.workspaces())
                .param("orphans", report.orphans())
                .param("unknown", report.unknown())
                .param("listed", listed)
                .query((rs, row) -> rs.getLong(1))
                .single();
            writes.sql("""
                    delete from sweep_runs
                    where id < :inserted
                      and (finished_at < :before
                           or id <= (select id from sweep_runs order by id desc offset :kept limit 1))
                    """)
                .param("inserted", id)
                .param("before", utc(clock.instant().minus(KEPT_FOR)))
                .param("kept", KEPT_ROWS)
                .update();
        }
        catch (RuntimeException e) {
            log.warn("Could not record the sweep in the cluster's history (sweep_runs): {}", e.toString());
            return;
        }
        readNow();
    }

    @Override
    protected Cluster read() {
        List<Sweep> lastRuns = reads.sql("select " + COLUMNS + " from sweep_runs order by id desc limit :n")
            .param("n", LISTED)
            .query(SweepHistory::sweep)
            .list();
        List<Sweep> instances = reads.sql("""
                select %s from (select distinct on (instance) * from sweep_runs order by instance, id desc) latest
                order by id desc limit :n
                """.formatted(COLUMNS)).param("n", LISTED).query(SweepHistory::sweep).list();
        Summary summary = reads.sql("""
                select (select backlog from sweep_runs where listed order by id desc limit 1) as backlog,
                       (select finished_at from sweep_runs where outcome <> 'failed' order by id desc limit 1)
                           as last_run_at
                """).query((rs, row) -> {
            OffsetDateTime lastRunAt = rs.getObject("last_run_at", OffsetDateTime.class);
            return new Summary(rs.getInt("backlog"), lastRunAt == null ? null : lastRunAt.toInstant());
        }).single();
        return new Cluster(summary.backlog(), summary.lastRunAt(), lastRuns, instances);
    }

    private static Sweep sweep(ResultSet rs, int row) throws SQLException {
        return new Sweep(rs.getString("instance"), rs.getString("outcome"),
                rs.getObject("started_at", OffsetDateTime.class).toInstant(),
                rs.getObject("finished_at", OffsetDateTime.class).toInstant(),
                SweepReport.Trigger.valueOf(rs.getString("trigger").toUpperCase(Locale.ROOT)), rs.getInt("removed"),
                rs.getInt("failed"), rs.getInt("skipped"), rs.getInt("backlog"), rs.getLong("files_deleted"),
                rs.getLong("bytes_freed"), rs.getInt("workspaces"), rs.getInt("orphans"), rs.getInt("unknown"),
                rs.getString("stopped"));
    }

    private static OffsetDateTime utc(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }

    private record Summary(int backlog, @Nullable Instant lastRunAt) {
    }

    /**
     * What the cluster's sweeps say.
     *
     * @param backlog the backlog of the newest sweep that listed the workspace root (0
     * when none did)
     * @param lastRunAt when the newest sweep that ran to the end (not a failed one)
     * finished
     * @param lastRuns the newest sweeps of all instances, newest first
     * @param instances each instance's newest sweep, newest first
     */
    record Cluster(int backlog, @Nullable Instant lastRunAt, List<Sweep> lastRuns, List<Sweep> instances) {
    }

    /**
     * One sweep of some instance: its report, who made it and how it ended.
     *
     * @param instance {@code pid@host} of the instance that swept
     * @param outcome {@code completed}, {@code partial}, {@code blocked} or
     * {@code failed}
     */
    record Sweep(String instance, String outcome, Instant startedAt, Instant finishedAt, SweepReport.Trigger trigger,
            int removed, int failed, int skipped, int backlog, long filesDeleted, long bytesFreed, int workspaces,
            int orphans, int unknown, @Nullable String stopped) {
    }

}
