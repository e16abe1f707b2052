package dev.collab.ops;

import org.springframework.context.SmartLifecycle;

/**
 * The order in which this server stops, in one place: the
 * {@link SmartLifecycle#getPhase() phases} of its long-running work. Spring stops
 * lifecycles from the highest phase to the lowest (and starts them the other way round),
 * then destroys beans: the connection pool and the built-in PostgreSQL go last. Spring
 * also stops a lifecycle bean's dependents (the beans that inject it) before it, whatever
 * their phases: work that must outlive a lifecycle it calls reaches it through an
 * {@code ObjectProvider}.
 *
 * <ol>
 * <li><b>Stop intake</b> (when the context starts closing, before any phase): readiness
 * turns {@code REFUSING_TRAFFIC}, so the load balancer stops sending, and writes get
 * {@code 503 shutting-down} (the web module's drain filter); reads are still served.
 * Spring's task scheduler stops firing periodic jobs ({@code @Scheduled},
 * {@code SchedulingConfigurer}: the head check of live streams, retention, the
 * idempotency-key purge, the health checks' refresh) at the same moment (it shuts its
 * trigger and fixed-delay threads down on {@code ContextClosedEvent}); a job under way
 * finishes on its own thread. Lease renewal and the agents' descendant scan are not on
 * that scheduler: they go on until {@link #RUN_UPKEEP}.</li>
 * <li><b>{@link #STREAMS}</b>: live streams are closed cleanly; their clients resume on
 * another instance with Last-Event-ID. Before the web server's graceful drain, which
 * would otherwise wait its whole timeout for streams that never end.</li>
 * <li><b>Drain</b> (Spring Boot's {@code WebServerGracefulShutdownLifecycle}, phase
 * {@code DEFAULT_PHASE - 1024}, then the web server stops at
 * {@code DEFAULT_PHASE - 2048}): requests in flight finish, within
 * {@code spring.lifecycle.timeout-per-shutdown-phase}.</li>
 * <li><b>{@link #RUNS}</b>: agents still running are stopped; each run ends with
 * {@code error instance-shutdown} and {@code run.finished}, written to the log; within
 * {@code collab.runner.interrupt-grace} + 7 s, not the whole phase timeout.</li>
 * <li><b>{@link #RUN_UPKEEP}</b>: lease renewal and the descendant scan stop, once no run
 * is left to renew (until then a peer must not reap a run that still runs here).</li>
 * <li><b>{@link #BACKGROUND}</b>: background work stops: the sweeper (no sweep starts,
 * one under way ends before its next workspace), the workspace removal pools (a delete
 * cut short waits in quarantine for a later sweep), the background health checks.</li>
 * <li><b>{@link #NOTIFICATIONS}</b>: this instance stops notifying and listening to the
 * others (the publisher flushes a last NOTIFY of the runs' final events first).</li>
 * <li><b>{@link #EVENT_LOG}</b>: the last appends (the runs' final events) are
 * committed.</li>
 * <li><b>Stop PostgreSQL</b>: bean destruction closes the pool and stops the built-in
 * database.</li>
 * </ol>
 */
public final class ShutdownOrder {

    /** Live streams: closed before the web server drains. */
    public static final int STREAMS = SmartLifecycle.DEFAULT_PHASE - 512;

    /**
     * Agent runs: stopped after the drain, while the log still takes their last events.
     */
    public static final int RUNS = SmartLifecycle.DEFAULT_PHASE - 4096;

    /**
     * The runs' own periodic work, on threads of their own: lease renewal and the
     * descendant scan. After {@link #RUNS}, so leases are renewed until every run here
     * has ended.
     */
    public static final int RUN_UPKEEP = SmartLifecycle.DEFAULT_PHASE - 6144;

    /** Background and periodic work. */
    public static final int BACKGROUND = SmartLifecycle.DEFAULT_PHASE - 8192;

    /** LISTEN/NOTIFY between instances. */
    public static final int NOTIFICATIONS = SmartLifecycle.DEFAULT_PHASE - 16384;

    /** The event log's writers: the last to stop, so every final event is committed. */
    public static final int EVENT_LOG = Integer.MIN_VALUE + 1000;

    private ShutdownOrder() {
    }

}
