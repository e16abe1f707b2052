package dev.collab.stream;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.collab.access.AccessGrant;
import dev.collab.access.AccessGrants;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.SchedulingConfigurer;
import org.springframework.scheduling.config.ScheduledTaskRegistrar;
import org.springframework.stereotype.Component;

/**
 * Closes the live streams of this instance whose users lost access: every
 * {@code collab.stream.access-check-interval}, the grants of all open streams (what each
 * was authorised with when it opened: user, token or browser session, project) are
 * checked in one query ({@link AccessGrants#lost}), and the streams whose grant no longer
 * holds are closed like any server-side close; the client reconnects and gets the
 * {@code 401} or {@code 404} that says why. A stream's own request never notices: its
 * security context was loaded once, when it opened. The change may have been made on any
 * instance: the check reads the database, so it sees them all.
 * <p>
 * On Spring's task scheduler at a fixed rate (each run on a thread of its own, so a check
 * waiting on an unreachable database holds up no other job; one still under way makes the
 * next ones skip). A failed check closes nothing: the streams stay open until a check
 * succeeds, with one WARN for the whole outage rather than a line per stream or per
 * check.
 */
@Component
class StreamAccessCheck implements SchedulingConfigurer {

    private static final Logger log = LoggerFactory.getLogger(StreamAccessCheck.class);

    private final StreamHub hub;

    private final SessionListHub lists;

    private final AccessGrants grants;

    private final StreamReads reads;

    private final StreamProperties properties;

    private final AtomicBoolean checking = new AtomicBoolean();

    /** The last check failed (WARNed once; the next success says so at INFO). */
    private volatile boolean failing;

    private final Counter closed;

    private final Timer duration;

    StreamAccessCheck(StreamHub hub, SessionListHub lists, AccessGrants grants, StreamReads reads,
            StreamProperties properties, MeterRegistry registry) {
        this.hub = hub;
        this.lists = lists;
        this.grants = grants;
        this.reads = reads;
        this.properties = properties;
        this.closed = Counter.builder("collab.stream.access.closed")
            .description("Live streams closed because their user lost access")
            .register(registry);
        this.duration = Timer.builder("collab.stream.access.check")
            .description("The periodic access check of all live streams of this instance (one query)")
            .register(registry);
    }

    @Override
    public void configureTasks(ScheduledTaskRegistrar registrar) {
        registrar.addFixedRateTask(this::check, properties.accessCheckInterval());
    }

    /**
     * One check of every open stream; returns how many were closed (0 when the check
     * failed or another one is under way).
     */
    int check() {
        if (!checking.compareAndSet(false, true)) {
            return 0;
        }
        try {
            // Session streams and live session lists alike: closing is all the check
            // does.
            Map<AccessGrant, List<Runnable>> byGrant = new HashMap<>();
            for (Subscription subscription : hub.subscriptions()) {
                AccessGrant grant = subscription.grant;
                if (grant != null && !subscription.closed()) {
                    byGrant.computeIfAbsent(grant, g -> new ArrayList<>()).add(subscription::close);
                }
            }
            for (ListStream stream : lists.streams()) {
                AccessGrant grant = stream.grant;
                if (grant != null && !stream.closed()) {
                    byGrant.computeIfAbsent(grant, g -> new ArrayList<>()).add(stream::close);
                }
            }
            if (byGrant.isEmpty()) {
                return 0;
            }
            Set<AccessGrant> lost;
            try {
                lost = reads.read("access-check", () -> duration.record(() -> grants.lost(byGrant.keySet())));
            }
            catch (RuntimeException e) {
                if (!failing) {
                    failing = true;
                    log.warn(
                            "Access check of {} live streams failed; they stay open until a check succeeds "
                                    + "(every {}): {}",
                            byGrant.values().stream().mapToInt(List::size).sum(), properties.accessCheckInterval(),
                            reason(e));
                }
                else {
                    log.debug("Access check failed again: {}", reason(e));
                }
                return 0;
            }
            if (failing) {
                failing = false;
                log.info("Access check of live streams works again");
            }
            int count = 0;
            for (AccessGrant grant : lost) {
                for (Runnable close : byGrant.getOrDefault(grant, List.of())) {
                    close.run();
                    count++;
                }
            }
            if (count > 0) {
                closed.increment(count);
                log.info("Closed {} live streams whose users lost access", count);
            }
            return count;
        }
        finally {
            checking.set(false);
        }
    }

    /**
     * The root cause's first line: Spring's wrapper repeats the whole (multi-line) SQL,
     * which says nothing an operator needs.
     */
    private static String reason(RuntimeException e) {
        Throwable cause = org.springframework.core.NestedExceptionUtils.getMostSpecificCause(e);
        return cause.toString().lines().findFirst().orElse(cause.getClass().getName());
    }

}
