package dev.collab.workspace;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import dev.collab.ops.ShutdownOrder;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.EventListener;
import org.springframework.core.task.TaskRejectedException;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.stereotype.Component;

/**
 * Removes orphan workspaces: directories under the root named by the id of a session that
 * is not IDLE or RUNNING (ENDED, or no session at all), older than {@code min-age}.
 *
 * <p>
 * Built so that incident 1 (a synchronous boot-time sweep that blocked health checks
 * until ECS killed the task) cannot happen: nothing runs on the startup path; the first
 * sweep starts {@code initial-delay} after the server is ready, each next one
 * {@code interval} after the last one ended, on a thread of its own that Spring's task
 * scheduler starts for it (never the scheduler's own thread, which other jobs share),
 * deletes on the removal pool, at most {@code max-per-run} workspaces per run, and one
 * instance at a time.
 *
 * <p>
 * Shutdown ({@link ShutdownOrder#BACKGROUND}): no further sweep starts, and one under way
 * stops before its next workspace; the rest is backlog for the next start.
 *
 * <p>
 * It does not trust the database blindly: against a wrong database every workspace looks
 * orphaned, and against an older copy of the right one the newer workspaces do. A sweep
 * deletes nothing when the workspace root is bound to another database
 * ({@link WorkspaceBinding}), or when more than {@code unknown-orphans-tolerated} of the
 * orphans it found, and more than {@code max-orphan-fraction} of them, belong to no
 * session at all; either shows as {@link #blocked()} in health, in the
 * {@code collab.sweeper.blocked} gauge and in one log line when it starts.
 */
@Component
public class WorkspaceSweeper implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(WorkspaceSweeper.class);

    private static final int KEPT_REPORTS = 20;

    /**
     * How long an orphan whose move failed is left alone on this instance. A directory
     * that cannot be renamed (a mount point, an immutable directory) usually stays that
     * way until someone acts, so trying it at every sweep would only repeat the WARN
     * line; an hour (six sweeps at the default interval) keeps the log quiet and still
     * notices a fix the same hour.
     */
    static final Duration MOVE_FAILURE_BACKOFF = Duration.ofHours(1);
    static final String ORPHAN_FRACTION = "orphan-fraction";

    private static final List<String> BLOCK_REASONS = List.of(WorkspaceBinding.DATABASE_MISMATCH,
            WorkspaceBinding.MARKER_UNREADABLE, ORPHAN_FRACTION);

    /** The {@code outcome}s of {@code collab.sweeper.runs}. */
    private static final List<String> OUTCOMES = List.of("completed", "partial", "blocked", "failed", "locked", "busy");

    private final Path root;

    private final WorkspaceRemoval removal;

    private final WorkspaceOwners owners;

    private final WorkspaceBinding workspaceBinding;

    private final DataSource dataSource;

    private final SweeperProperties properties;

    private final Clock clock;

    private final MeterRegistry registry;

    private final Timer duration;

    /**
     * The backlog of this instance's last sweep that listed the root (health); the gauge
     * is the cluster's ({@link SweepHistory}).
     */
    private final AtomicInteger backlog = new AtomicInteger();

    private final SweepHistory history;

    private final TaskScheduler scheduler;

    /** A sweep runs on this instance (at most one at a time). */
    private final AtomicBoolean running = new AtomicBoolean();

    private final AtomicBoolean manualPending = new AtomicBoolean();

    private final Deque<SweepReport> reports = new ArrayDeque<>();

    private volatile @Nullable ScheduledFuture<?> next;

    private volatile @Nullable Instant nextRunAt;

    /**
     * The lifecycle: sweeps may start (from the start of the BACKGROUND phase to its
     * stop).
     */
    private volatile boolean started;

    /** Told to stop: no sweep starts, one under way ends before its next workspace. */
    private volatile boolean stopping;

    /**
     * Spring's stop callback, run when the sweep under way has ended. Guarded by this.
     */
    private @Nullable Runnable stopped;

    /**
     * The server was ready once: sweeps are scheduled (again, after a stop and a start).
     */
    private volatile boolean ready;

    private volatile @Nullable Blocked blocked;

    /** What the marker said at the last check; null before the first one. */
    private volatile WorkspaceBinding.@Nullable Status binding;

    /**
     * Orphans whose move failed, and when they may be tried again (sweeper thread only).
     */
    private final Map<UUID, Instant> moveFailures = new ConcurrentHashMap<>();

    /** Test seam: runs between listing the root and removing the first orphan. */
    volatile Runnable afterListing = () -> {
    };

    WorkspaceSweeper(Workspaces workspaces, WorkspaceRemoval removal, WorkspaceOwners owners, WorkspaceBinding binding,
            DataSource dataSource, SweeperProperties properties, Clock clock, MeterRegistry registry,
            TaskScheduler scheduler, SweepHistory history) {
        this.root = workspaces.root();
        this.removal = removal;
        this.owners = owners;
        this.workspaceBinding = binding;
        this.dataSource = dataSource;
        this.properties = properties;
        this.clock = clock;
        this.registry = registry;
        this.history = history;
        this.duration = Timer.builder("collab.sweeper.duration").description("Time a sweep took").register(registry);
        // Every outcome from the start, at 0: a missing series is no value, so an
        // alert on an increase of "failed" would miss an instance's first failure.
        for (String outcome : OUTCOMES) {
            registry.counter("collab.sweeper.runs", "outcome", outcome);
        }
        registry.counter("collab.sweeper.bytes.freed");
        for (String reason : BLOCK_REASONS) {
            Gauge.builder("collab.sweeper.blocked", this, sweeper -> sweeper.blockedBy(reason) ? 1 : 0)
                .description("1 while the sweeper deletes nothing for this reason")
                .tag("reason", reason)
                .register(registry);
        }
        this.scheduler = scheduler;
    }

    /**
     * The first sweep is scheduled only once the server is ready, never on the startup
     * path.
     */
    @EventListener(ApplicationReadyEvent.class)
    void scheduleFirstSweep() {
        ready = true;
        if (properties.enabled()) {
            // Check the root at once, off the startup path, so that a wrong database
            // shows in
            // health right after the start rather than at the first sweep.
            runSoon(this::checkBindingAtStart);
            schedule(properties.initialDelay());
        }
    }

    /**
     * Checks the root's binding when the server becomes ready. An unbound root is bound
     * here only if it holds no workspaces (a fresh installation): one that holds some (an
     * upgrade from a version without the marker) could be bound to a wrong database this
     * way, so it waits for a sweep whose orphan guard passed.
     */
    void checkBindingAtStart() {
        try {
            checkBinding(!holdsWorkspaces());
        }
        catch (IOException | RuntimeException e) {
            log.warn("Could not check which database the workspace root belongs to: {}; the next sweep checks again",
                    e.toString());
        }
    }

    /**
     * The next scheduled sweep, {@code delay} from now: a one-off task, which the
     * scheduler hands to a new thread when it is due, and which schedules the next one
     * when it ends (a fixed delay after each sweep's end, without holding the scheduler's
     * thread, where fixed-delay jobs run). The scheduler counts time on its own clock;
     * {@code nextRunAt} is told on the server's.
     */
    private synchronized void schedule(Duration delay) {
        if (stopping) {
            return;
        }
        nextRunAt = clock.instant().plus(delay);
        try {
            next = scheduler.schedule(() -> {
                try {
                    sweep(SweepReport.Trigger.SCHEDULE);
                }
                finally {
                    schedule(properties.interval());
                }
            }, scheduler.getClock().instant().plus(delay));
        }
        catch (TaskRejectedException e) {
            nextRunAt = null; // the scheduler is shutting down
        }
    }

    /**
     * Runs the task now on a thread the scheduler starts for it; false when it is
     * shutting down.
     */
    private boolean runSoon(Runnable task) {
        try {
            scheduler.schedule(task, scheduler.getClock().instant());
            return true;
        }
        catch (TaskRejectedException e) {
            return false;
        }
    }

    /**
     * Starts a sweep now, in the background.
     * @return false when a sweep is already running on this instance (or it is shutting
     * down)
     */
    public boolean requestSweep() {
        if (stopping || running.get() || !manualPending.compareAndSet(false, true)) {
            return false;
        }
        boolean accepted = runSoon(() -> {
            manualPending.set(false);
            sweep(SweepReport.Trigger.MANUAL);
        });
        if (!accepted) {
            manualPending.set(false);
        }
        return accepted;
    }

    public boolean enabled() {
        return properties.enabled();
    }

    public Optional<Instant> nextRunAt() {
        return properties.enabled() ? Optional.ofNullable(nextRunAt) : Optional.empty();
    }

    /** The last sweeps of this instance, newest first. */
    public synchronized List<SweepReport> lastRuns() {
        return List.copyOf(reports);
    }

    public int backlog() {
        return backlog.get();
    }

    /**
     * Why the sweeper deletes nothing at the moment, if it does not.
     *
     * @param reason {@code database-mismatch}, {@code marker-unreadable} or
     * {@code orphan-fraction}
     * @param detail what happened and what to do, for operators (no paths: health is
     * shown to anyone)
     * @param since when this started
     */
    public record Blocked(String reason, String detail, Instant since) {
    }

    public Optional<Blocked> blocked() {
        return Optional.ofNullable(blocked);
    }

    /**
     * What the marker said at the last check: {@code bound}, {@code unbound} (no marker
     * yet; sweeps run, and bind the root once it is safe), {@code database-mismatch},
     * {@code marker-unreadable}, or {@code unchecked} before the first check.
     */
    public String binding() {
        WorkspaceBinding.Status current = binding;
        return current == null ? "unchecked" : current.json();
    }

    private boolean blockedBy(String reason) {
        Blocked current = blocked;
        return current != null && current.reason().equals(reason);
    }

    /**
     * Enters a blocked state; logs only when the reason changes, so a stuck sweeper logs
     * once.
     */
    private void block(String reason, String detail, Runnable logOnce) {
        Blocked current = blocked;
        if (current != null && current.reason().equals(reason)) {
            blocked = new Blocked(reason, detail, current.since());
            return;
        }
        blocked = new Blocked(reason, detail, clock.instant());
        logOnce.run();
    }

    private void unblock(Set<String> reasons) {
        Blocked current = blocked;
        if (current != null && reasons.contains(current.reason())) {
            blocked = null;
            log.info("Workspace sweeper resumed ({} is resolved)", current.reason());
        }
    }

    /**
     * Checks the root's binding to the database, entering or leaving the blocked state.
     * @param mayBind write the marker if there is none
     */
    private WorkspaceBinding.Check checkBinding(boolean mayBind) throws IOException {
        WorkspaceBinding.Check check = workspaceBinding.check(mayBind);
        binding = check.status();
        if (check.written()) {
            log.info("Workspace root {} bound to database installation {} (file {})", root, check.connectedTo(),
                    WorkspaceBinding.MARKER);
        }
        if (check.reason() == null) {
            unblock(Set.of(WorkspaceBinding.DATABASE_MISMATCH, WorkspaceBinding.MARKER_UNREADABLE));
            return check;
        }
        Path marker = root.resolve(WorkspaceBinding.MARKER);
        if (WorkspaceBinding.DATABASE_MISMATCH.equals(check.reason())) {
            block(check.reason(),
                    "The workspace root belongs to database installation " + check.boundTo() + " (file "
                            + WorkspaceBinding.MARKER + " in the root), but this server is connected to installation "
                            + check.connectedTo()
                            + ". Nothing is deleted. If this is the right database, delete that file to bind"
                            + " the root to it; otherwise fix the database URL.",
                    () -> log
                        .error("Workspace sweeper stopped, nothing will be deleted: the workspace root is bound to "
                                + "another database (installation {} in {}), this server is connected to installation {}. "
                                + "Check the database URL; if this database is the right one, delete {} and the next sweep "
                                + "binds the root to it.", check.boundTo(), marker, check.connectedTo(), marker));
        }
        else {
            block(check.reason(),
                    "The file " + WorkspaceBinding.MARKER + " in the workspace root is not a readable "
                            + "marker. Nothing is deleted. Delete it to bind the root to this server's database.",
                    () -> log.error("Workspace sweeper stopped, nothing will be deleted: {} is not a readable marker "
                            + "(expected a regular file with an installation-id line). Delete it and the next sweep binds "
                            + "the root to the database this server is connected to (installation {}).", marker,
                            check.connectedTo()));
        }
        return check;
    }

    /** Whether the root holds a directory named like a session, of any age. */
    private boolean holdsWorkspaces() throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (Path entry : entries) {
                if (sessionId(entry.getFileName().toString()).isPresent()
                        && Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * One sweep, on the calling thread. Skipped (empty) when another sweep runs here or
     * on another instance sharing the database.
     */
    Optional<SweepReport> sweep(SweepReport.Trigger trigger) {
        if (!running.compareAndSet(false, true)) {
            registry.counter("collab.sweeper.runs", "outcome", "busy").increment();
            return Optional.empty();
        }
        if (stopping) {
            // Checked after claiming the sweep (stop() checks the other way round): never
            // both missed.
            ended();
            return Optional.empty();
        }
        try (var lock = SweepLock.tryAcquire(dataSource).orElse(null)) {
            if (lock == null) {
                log.debug("Another instance is sweeping; skipping this sweep");
                registry.counter("collab.sweeper.runs", "outcome", "locked").increment();
                // The marker is read anyway (it is cheap, and never written here): a
                // replica that
                // rarely wins the lock still shows a changed binding within one interval.
                try {
                    checkBinding(false);
                }
                catch (IOException | RuntimeException e) {
                    log.debug("Could not check the workspace root's binding: {}", e.toString());
                }
                return Optional.empty();
            }
            Timer.Sample sample = Timer.start(registry);
            Instant startedAt = clock.instant();
            SweepReport report;
            try {
                report = sweepLocked(trigger);
            }
            catch (IOException | RuntimeException e) {
                // Still under the lock: the cluster's history says who failed, and when.
                history.recordFailure(startedAt, trigger);
                throw e;
            }
            sample.stop(duration);
            String outcome = report.stopped() != null ? "blocked" : report.failed() == 0 ? "completed" : "partial";
            registry.counter("collab.sweeper.runs", "outcome", outcome).increment();
            remember(report);
            // Under the lock, so the cluster's history is in the order of the sweeps.
            history.record(report, outcome);
            return Optional.of(report);
        }
        catch (SQLException | IOException | RuntimeException e) {
            log.warn("Sweep failed: {}", e.toString());
            registry.counter("collab.sweeper.runs", "outcome", "failed").increment();
            return Optional.empty();
        }
        finally {
            ended();
        }
    }

    /**
     * The sweep under way ended: another may start, and a stop that waited for it
     * completes.
     */
    private void ended() {
        running.set(false);
        Runnable callback;
        synchronized (this) {
            callback = stopped;
            stopped = null;
        }
        if (callback != null) {
            callback.run();
        }
    }

    private SweepReport sweepLocked(SweepReport.Trigger trigger) throws IOException {
        Instant startedAt = clock.instant();
        // Checked again at every sweep, before anything else: the marker or the database
        // URL may
        // have changed since the start, and a replica that lost the binding race finds
        // out here.
        // Never written here: an unbound root is bound below, once the orphan guard has
        // passed.
        WorkspaceBinding.Check check = checkBinding(false);
        if (check.reason() != null) {
            // The root was not listed: no counts, and the backlog gauge keeps the last
            // known value.
            return stoppedBeforeListing(startedAt, trigger);
        }
        long freeBefore = usableSpace();
        Tally tally = new Tally(properties.maxPerRun());

        Scan scan = scan(startedAt);
        tally.skipped += scan.skipped();
        List<UUID> ids = scan.candidates().stream().map(Candidate::id).toList();
        Set<UUID> live = ids.isEmpty() ? Set.of() : owners.live(ids);
        Set<UUID> known = scan.ids().isEmpty() ? Set.of() : owners.known(scan.ids());
        // Oldest first by the directory's mtime: what min-age judges too, and what every
        // filesystem
        // has (EFS and NFS keep no creation time; the JDK then reports the mtime as
        // creationTime).
        // The mtime changes only when an entry directly inside is added, removed or
        // renamed, so
        // it means "untouched at the top for longest".
        List<UUID> orphans = scan.candidates()
            .stream()
            .filter(candidate -> !live.contains(candidate.id()))
            .sorted(Comparator.comparing(Candidate::modified).thenComparing(Candidate::id))
            .map(Candidate::id)
            .toList();
        tally.skipped += scan.candidates().size() - orphans.size();
        // The guard weighs the orphans of no session at all against all orphans. Session
        // rows are
        // never deleted and a workspace is made in the transaction that inserts its row,
        // so in a
        // healthy installation nearly every orphan is an ENDED session, which no older or
        // wrong
        // database can claim. An older backup restored in place does not know the
        // sessions made
        // since: they are a few tenths of the root, but nearly all of its "orphans".
        // Measured
        // against the whole root (as before) that stayed under one half and was swept.
        int unknown = (int) orphans.stream().filter(id -> !known.contains(id)).count();
        if (unknown > properties.unknownOrphansTolerated()
                && unknown > properties.maxOrphanFraction() * orphans.size()) {
            String detail = unknown + " of the " + orphans.size()
                    + " orphaned-looking workspace directories belong to no"
                    + " session in the database: more than collab.sweeper.max-orphan-fraction ("
                    + properties.maxOrphanFraction()
                    + ") of them. Nothing is deleted while that lasts. Check that the server uses the right and current"
                    + " database (not an older backup or another installation's).";
            block(ORPHAN_FRACTION, detail, () -> log
                .warn("Workspace sweeper stopped, nothing will be deleted: {} of the {} "
                        + "orphaned-looking workspace directories under {} belong to no session in the database, more than "
                        + "collab.sweeper.max-orphan-fraction ({}) of them. Is the server connected to the right and current "
                        + "database (not an older backup or another installation's)? If these really are leftovers, remove "
                        + "them by hand, or raise collab.sweeper.max-orphan-fraction for a while (1 turns the guard off).",
                        unknown, orphans.size(), root, properties.maxOrphanFraction()));
            backlog.set(orphans.size());
            return stopped(startedAt, trigger, tally.skipped, orphans.size(), scan, orphans.size(), unknown);
        }
        unblock(Set.of(ORPHAN_FRACTION));

        if (check.status() == WorkspaceBinding.Status.UNBOUND && (scan.workspaces() == 0 || !known.isEmpty())) {
            // Bound now, under the lock, after the guard passed, and only when the root
            // holds no
            // workspaces or this database knows at least one of them: a wrong database
            // knows none.
            WorkspaceBinding.Check bound = checkBinding(true);
            if (bound.reason() != null) {
                return stoppedBeforeListing(startedAt, trigger);
            }
        }

        // Trees a delete left in quarantine (killed, NFS trouble, read-only files) are
        // retried
        // with a budget of their own, so a few undeletable trees never starve orphan
        // removal.
        int retries = properties.maxPerRun();
        for (Path leftover : removal.leftovers()) {
            if (retries-- <= 0 || stopping) {
                tally.backlog++;
                continue;
            }
            tally.record(removal.deleteQuarantined(leftover), "sweep");
        }

        afterListing.run();
        // Failed moves use none of max-per-run (a directory that cannot be renamed would
        // otherwise
        // eat every sweep's budget); they have a cap of their own per sweep, and a
        // backoff.
        int moveFailuresLeft = properties.maxPerRun();
        for (UUID orphan : orphans) {
            Instant retryAt = moveFailures.get(orphan);
            if (retryAt != null && startedAt.isBefore(retryAt)) {
                tally.skipped++;
                continue;
            }
            if (tally.budget == 0 || moveFailuresLeft == 0 || stopping) {
                tally.backlog++;
                continue;
            }
            // Re-checked right before the move: a session created since the listing keeps
            // its workspace.
            if (!owners.live(List.of(orphan)).isEmpty()) {
                tally.skipped++;
                continue;
            }
            try {
                Optional<Path> quarantined = removal.quarantineWorkspace(orphan);
                moveFailures.remove(orphan);
                if (quarantined.isEmpty()) {
                    tally.skipped++;
                    continue;
                }
                tally.budget--;
                tally.record(removal.deleteQuarantined(quarantined.get()), "sweep");
            }
            catch (IOException | RuntimeException e) {
                // One workspace that cannot be moved (a mount point, no permission) must
                // not stop the rest.
                log.warn(
                        "Could not move orphan workspace {} into quarantine: {}; not tried again on this instance for {}",
                        orphan, e.toString(), MOVE_FAILURE_BACKOFF);
                moveFailures.put(orphan, startedAt.plus(MOVE_FAILURE_BACKOFF));
                moveFailuresLeft--;
                tally.failed++;
                removal.count("failed", "sweep");
            }
        }
        // Forget what is no longer an orphan (removed by hand, live again): the map stays
        // bounded.
        moveFailures.keySet().retainAll(new HashSet<>(orphans));
        backlog.set(tally.backlog);
        registry.counter("collab.sweeper.workspaces", "result", "skipped", "source", "sweep").increment(tally.skipped);
        long freeAfter = usableSpace();
        long bytesFreed = freeBefore < 0 || freeAfter < 0 ? 0 : Math.max(0, freeAfter - freeBefore);
        registry.counter("collab.sweeper.bytes.freed").increment(bytesFreed);
        if (!scan.reported().isEmpty()) {
            log.warn("Workspace root holds {} entries that are not workspaces, left alone: {}", scan.reported().size(),
                    scan.reported().size() > 10 ? scan.reported().subList(0, 10) + " …" : scan.reported());
        }
        SweepReport report = new SweepReport(startedAt, clock.instant(), trigger, tally.removed, tally.failed,
                tally.skipped, tally.backlog, tally.files, bytesFreed, scan.workspaces(), orphans.size(), unknown,
                null);
        log.info("Sweep ({}) removed {} workspaces, {} failed, {} skipped, {} left as backlog, {} files deleted",
                trigger.json(), report.removed(), report.failed(), report.skipped(), report.backlog(),
                report.filesDeleted());
        return report;
    }

    /**
     * The report of a sweep that listed the root and then deleted nothing because the
     * sweeper is blocked.
     */
    private SweepReport stopped(Instant startedAt, SweepReport.Trigger trigger, int skipped, int backlog, Scan scan,
            int orphans, int unknown) {
        String reason = blocked().map(Blocked::reason).orElseThrow();
        SweepReport report = new SweepReport(startedAt, clock.instant(), trigger, 0, 0, skipped, backlog, 0, 0,
                scan.workspaces(), orphans, unknown, reason);
        log.info(
                "Sweep ({}) stopped ({}): nothing deleted, {} of {} orphans belong to no session, {} workspace directories",
                trigger.json(), reason, unknown, orphans, scan.workspaces());
        return report;
    }

    /**
     * The report of a sweep stopped by the marker, before it listed the root: nothing to
     * count.
     */
    private SweepReport stoppedBeforeListing(Instant startedAt, SweepReport.Trigger trigger) {
        String reason = blocked().map(Blocked::reason).orElseThrow();
        log.info("Sweep ({}) stopped ({}): nothing deleted", trigger.json(), reason);
        return new SweepReport(startedAt, clock.instant(), trigger, 0, 0, 0, 0, 0, 0, 0, 0, 0, reason);
    }

    /**
     * Lists the root: workspace directories old enough to judge, and what is left alone.
     */
    private Scan scan(Instant now) throws IOException {
        List<Candidate> candidates = new ArrayList<>();
        List<UUID> ids = new ArrayList<>();
        List<String> reported = new ArrayList<>();
        int skipped = 0;
        int workspaces = 0;
        Instant youngest = now.minus(properties.minAge());
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.equals(WorkspaceRemoval.QUARANTINE) || name.startsWith(".collab-write-probe-")
                        || name.startsWith(WorkspaceBinding.MARKER)) {
                    continue;
                }
                Optional<UUID> id = sessionId(name);
                BasicFileAttributes attributes;
                try {
                    attributes = Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                }
                catch (NoSuchFileException e) {
                    continue;
                }
                if (id.isEmpty() || !attributes.isDirectory()) {
                    reported.add(name
                            + (attributes.isSymbolicLink() ? " (link)" : attributes.isDirectory() ? "" : " (file)"));
                    skipped++;
                    continue;
                }
                workspaces++;
                ids.add(id.get());
                Instant modified = attributes.lastModifiedTime().toInstant();
                if (modified.isAfter(youngest)) {
                    skipped++;
                }
                else {
                    candidates.add(new Candidate(id.get(), modified));
                }
            }
        }
        return new Scan(candidates, ids, reported, skipped, workspaces);
    }

    private static Optional<UUID> sessionId(String name) {
        if (name.length() != 36) {
            return Optional.empty();
        }
        try {
            UUID id = UUID.fromString(name);
            return id.toString().equals(name) ? Optional.of(id) : Optional.empty();
        }
        catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private long usableSpace() {
        try {
            return Files.getFileStore(root).getUsableSpace();
        }
        catch (IOException e) {
            return -1;
        }
    }

    private synchronized void remember(SweepReport report) {
        reports.addFirst(report);
        while (reports.size() > KEPT_REPORTS) {
            reports.removeLast();
        }
    }

    /**
     * Sweeps may run. The first one is scheduled when the server is ready (never on the
     * startup path); after a stop, a start schedules the next one {@code initial-delay}
     * later.
     */
    @Override
    public void start() {
        synchronized (this) {
            stopping = false;
            started = true;
        }
        if (ready && properties.enabled()) {
            schedule(properties.initialDelay());
        }
    }

    @Override
    public void stop() {
        stop(() -> {
        });
    }

    /**
     * No sweep starts from now on, the next scheduled one is cancelled, and the callback
     * runs once the sweep under way (if any) has ended: it stops before its next
     * workspace, and the removal pool, stopped in the same phase, cuts a delete under way
     * short.
     */
    @Override
    public void stop(Runnable callback) {
        synchronized (this) {
            stopping = true;
            started = false;
            ScheduledFuture<?> scheduled = next;
            if (scheduled != null) {
                scheduled.cancel(false);
            }
            nextRunAt = null;
            if (running.get()) {
                stopped = callback;
                return;
            }
        }
        callback.run();
    }

    @Override
    public boolean isRunning() {
        return started;
    }

    @Override
    public int getPhase() {
        return ShutdownOrder.BACKGROUND;
    }

    /**
     * @param candidates workspace directories older than min-age
     * @param ids every workspace directory's id, of any age
     * @param workspaces directories named like a session, of any age
     */
    private record Scan(List<Candidate> candidates, List<UUID> ids, List<String> reported, int skipped,
            int workspaces) {
    }

    private record Candidate(UUID id, Instant modified) {
    }

    /** Counts of one sweep; {@code budget} is what is left of {@code max-per-run}. */
    private final class Tally {

        int budget;

        int removed;

        int failed;

        int skipped;

        int backlog;

        long files;

        Tally(int budget) {
            this.budget = budget;
        }

        void record(TreeDeleter.Result result, String source) {
            files += result.filesDeleted();
            if (result.complete()) {
                removed++;
                removal.count("removed", source);
            }
            else {
                failed++;
                removal.count("failed", source);
            }
        }

    }

}
