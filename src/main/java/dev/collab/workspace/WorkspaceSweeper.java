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
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Removes orphan workspaces: directories under the root named by the id of a session that is
 * not IDLE or RUNNING (ENDED, or no session at all), older than {@code min-age}.
 *
 * <p>Built so that incident 1 (a synchronous boot-time sweep that blocked health checks until
 * ECS killed the task) cannot happen: nothing runs on the startup path; the first sweep starts
 * {@code initial-delay} after the server is ready, on this class's own thread, deletes on the
 * removal pool, at most {@code max-per-run} workspaces per run, and one instance at a time.
 */
@Component
public class WorkspaceSweeper implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(WorkspaceSweeper.class);
    private static final int KEPT_REPORTS = 20;

    private final Path root;
    private final WorkspaceRemoval removal;
    private final WorkspaceOwners owners;
    private final DataSource dataSource;
    private final SweeperProperties properties;
    private final Clock clock;
    private final MeterRegistry registry;
    private final Timer duration;
    private final AtomicInteger backlog = new AtomicInteger();
    private final ScheduledExecutorService executor;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicBoolean manualPending = new AtomicBoolean();
    private final Deque<SweepReport> reports = new ArrayDeque<>();
    private volatile ScheduledFuture<?> next;
    private volatile Instant nextRunAt;
    /** Test seam: runs between listing the root and removing the first orphan. */
    volatile Runnable afterListing = () -> { };

    WorkspaceSweeper(Workspaces workspaces, WorkspaceRemoval removal, WorkspaceOwners owners, DataSource dataSource,
            SweeperProperties properties, Clock clock, MeterRegistry registry) {
        this.root = workspaces.root();
        this.removal = removal;
        this.owners = owners;
        this.dataSource = dataSource;
        this.properties = properties;
        this.clock = clock;
        this.registry = registry;
        this.duration = Timer.builder("collab.sweeper.duration").description("Time a sweep took")
                .register(registry);
        registry.gauge("collab.sweeper.backlog", backlog);
        this.executor = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("workspace-sweeper").factory());
    }

    /** The first sweep is scheduled only once the server is ready, never on the startup path. */
    @EventListener(ApplicationReadyEvent.class)
    void scheduleFirstSweep() {
        if (properties.enabled()) {
            schedule(properties.initialDelay());
        }
    }

    private synchronized void schedule(Duration delay) {
        if (executor.isShutdown()) {
            return;
        }
        nextRunAt = clock.instant().plus(delay);
        next = executor.schedule(() -> {
            try {
                sweep(SweepReport.Trigger.SCHEDULE);
            } finally {
                schedule(properties.interval());
            }
        }, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Starts a sweep now, in the background.
     *
     * @return false when a sweep is already running on this instance
     */
    public boolean requestSweep() {
        if (running.get() || !manualPending.compareAndSet(false, true)) {
            return false;
        }
        executor.execute(() -> {
            manualPending.set(false);
            sweep(SweepReport.Trigger.MANUAL);
        });
        return true;
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
     * One sweep, on the calling thread. Skipped (empty) when another sweep runs here or on
     * another instance sharing the database.
     */
    Optional<SweepReport> sweep(SweepReport.Trigger trigger) {
        if (!running.compareAndSet(false, true)) {
            registry.counter("collab.sweeper.runs", "outcome", "busy").increment();
            return Optional.empty();
        }
        try (var lock = SweepLock.tryAcquire(dataSource).orElse(null)) {
            if (lock == null) {
                log.debug("Another instance is sweeping; skipping this sweep");
                registry.counter("collab.sweeper.runs", "outcome", "locked").increment();
                return Optional.empty();
            }
            Timer.Sample sample = Timer.start(registry);
            SweepReport report = sweepLocked(trigger);
            sample.stop(duration);
            registry.counter("collab.sweeper.runs", "outcome", report.failed() == 0 ? "completed" : "partial").increment();
            remember(report);
            return Optional.of(report);
        } catch (SQLException | IOException | RuntimeException e) {
            log.warn("Sweep failed: {}", e.toString());
            registry.counter("collab.sweeper.runs", "outcome", "failed").increment();
            return Optional.empty();
        } finally {
            running.set(false);
        }
    }

    private SweepReport sweepLocked(SweepReport.Trigger trigger) throws IOException {
        Instant startedAt = clock.instant();
        long freeBefore = usableSpace();
        if (properties.endIdleAfter() != null) {
            // Bounded like everything else: at most max-per-run sessions ended per sweep.
            int ended = owners.endIdleSince(startedAt.minus(properties.endIdleAfter()), properties.maxPerRun());
            if (ended > 0) {
                log.info("Ended {} sessions idle for more than {}", ended, properties.endIdleAfter());
            }
        }
        Tally tally = new Tally(properties.maxPerRun());

        // Trees a delete left in quarantine (killed, NFS trouble, read-only files) are retried
        // with a budget of their own, so a few undeletable trees never starve orphan removal.
        int retries = properties.maxPerRun();
        for (Path leftover : removal.leftovers()) {
            if (retries-- <= 0) {
                tally.backlog++;
                continue;
            }
            tally.record(removal.deleteQuarantined(leftover), "sweep");
        }

        Scan scan = scan(startedAt);
        tally.skipped += scan.skipped();
        Set<UUID> live = scan.candidates().isEmpty() ? Set.of() : owners.live(scan.candidates());
        List<UUID> orphans = scan.candidates().stream().filter(id -> !live.contains(id)).toList();
        tally.skipped += scan.candidates().size() - orphans.size();
        afterListing.run();
        for (UUID orphan : orphans) {
            if (tally.budget == 0) {
                tally.backlog++;
                continue;
            }
            // Re-checked right before the move: a session created since the listing keeps its workspace.
            if (!owners.live(List.of(orphan)).isEmpty()) {
                tally.skipped++;
                continue;
            }
            try {
                Optional<Path> quarantined = removal.quarantineWorkspace(orphan);
                if (quarantined.isEmpty()) {
                    tally.skipped++;
                    continue;
                }
                tally.budget--;
                tally.record(removal.deleteQuarantined(quarantined.get()), "sweep");
            } catch (IOException | RuntimeException e) {
                // One workspace that cannot be moved (a mount point, no permission) must not stop the rest.
                log.warn("Could not move orphan workspace {} into quarantine: {}", orphan, e.toString());
                tally.budget--;
                tally.failed++;
                removal.count("failed", "sweep");
            }
        }
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
                tally.skipped, tally.backlog, tally.files, bytesFreed);
        log.info("Sweep ({}) removed {} workspaces, {} failed, {} skipped, {} left as backlog, {} files deleted",
                trigger.json(), report.removed(), report.failed(), report.skipped(), report.backlog(),
                report.filesDeleted());
        return report;
    }

    /** Lists the root: workspace directories old enough to judge, and what is left alone. */
    private Scan scan(Instant now) throws IOException {
        List<UUID> candidates = new ArrayList<>();
        List<String> reported = new ArrayList<>();
        int skipped = 0;
        Instant youngest = now.minus(properties.minAge());
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.equals(WorkspaceRemoval.QUARANTINE) || name.startsWith(".collab-write-probe-")) {
                    continue;
                }
                Optional<UUID> id = sessionId(name);
                BasicFileAttributes attributes;
                try {
                    attributes = Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException e) {
                    continue;
                }
                if (id.isEmpty() || !attributes.isDirectory()) {
                    reported.add(name + (attributes.isSymbolicLink() ? " (link)" : attributes.isDirectory() ? "" : " (file)"));
                    skipped++;
                } else if (attributes.lastModifiedTime().toInstant().isAfter(youngest)) {
                    skipped++;
                } else {
                    candidates.add(id.get());
                }
            }
        }
        return new Scan(candidates, reported, skipped);
    }

    private static Optional<UUID> sessionId(String name) {
        if (name.length() != 36) {
            return Optional.empty();
        }
        try {
            UUID id = UUID.fromString(name);
            return id.toString().equals(name) ? Optional.of(id) : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private long usableSpace() {
        try {
            return Files.getFileStore(root).getUsableSpace();
        } catch (IOException e) {
            return -1;
        }
    }

    private synchronized void remember(SweepReport report) {
        reports.addFirst(report);
        while (reports.size() > KEPT_REPORTS) {
            reports.removeLast();
        }
    }

    @Override
    public void destroy() {
        synchronized (this) {
            executor.shutdownNow();
        }
    }

    private record Scan(List<UUID> candidates, List<String> reported, int skipped) {
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
            } else {
                failed++;
                removal.count("failed", source);
            }
        }
    }
}
