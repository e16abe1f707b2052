package dev.collab.workspace;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.collab.ops.ShutdownOrder;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Removes workspaces: move first, then delete. The doomed directory is renamed into the
 * quarantine directory under the root ({@code renameat} between two open directories:
 * same filesystem, atomic, no path followed), so a half-deleted tree never sits under a
 * live name; a delete cut short (kill, NFS trouble) stays in quarantine and a later sweep
 * finishes it. Nothing here follows a link, the quarantine directory included: if someone
 * replaced it with a link, the link is removed and a real directory made. Deletion runs
 * on its own bounded pool, never on a request thread.
 *
 * <p>
 * Its pools are its lifecycle's, in phase {@link ShutdownOrder#BACKGROUND}: made when it
 * starts, shut down at once when it stops. A delete cut short by the stop stays in
 * quarantine and a later sweep finishes it, so shutdown never waits for a tree on a slow
 * filesystem.
 */
@Component
class WorkspaceRemoval implements SmartLifecycle {

    /** Under the workspace root; not a session id, so never taken for a workspace. */
    static final String QUARANTINE = ".collab-quarantine";

    /**
     * A quarantined tree younger than this may still be being deleted by its own removal.
     */
    static final Duration RETRY_AFTER = Duration.ofMinutes(5);

    private static final Logger log = LoggerFactory.getLogger(WorkspaceRemoval.class);

    private static final Path QUARANTINE_NAME = Path.of(QUARANTINE);

    private final Path root;

    private final Clock clock;

    private final int deleteWorkerCount;

    /**
     * Pools of their own, not Spring's task scheduler or executor: a delete on a network
     * filesystem (EFS) takes minutes and keeps {@code delete-workers} threads busy in
     * blocking unlinks, which must never occupy the threads that run periodic jobs and
     * health checks; and the workers are bounded on purpose (more parallel unlinks only
     * slow the filesystem down).
     */
    private volatile @Nullable Pools pools;

    private final Counter filesDeleted;

    private final MeterRegistry registry;

    private final AtomicLong sequence = new AtomicLong();

    /**
     * Test seam: runs right before a workspace is moved into quarantine and may fail the
     * way the OS fails a move (tests run as root, where permissions cannot make a rename
     * fail).
     */
    volatile MoveCheck beforeMove = id -> {
    };

    /** See {@link #beforeMove}. */
    interface MoveCheck {

        void check(UUID sessionId) throws IOException;

    }

    WorkspaceRemoval(Workspaces workspaces, SweeperProperties properties, Clock clock, MeterRegistry registry)
            throws IOException {
        this.root = workspaces.root();
        this.clock = clock;
        this.deleteWorkerCount = properties.deleteWorkers();
        this.registry = registry;
        this.filesDeleted = Counter.builder("collab.sweeper.files.deleted")
            .description("Files and links deleted from workspaces")
            .register(registry);
        // The combinations that exist (skipped: sweeps only), from the start at 0: an
        // alert on failed removals then has a series before the first failure.
        for (String result : List.of("removed", "failed")) {
            for (String source : List.of("sweep", "delete")) {
                registry.counter("collab.sweeper.workspaces", "result", result, "source", source);
            }
        }
        registry.counter("collab.sweeper.workspaces", "result", "skipped", "source", "sweep");
        try {
            // created (or repaired) at startup, so a broken root shows at once
            openQuarantine().close();
        }
        catch (UnsupportedOperationException e) {
            // No secure directory streams (Windows): serving works, deleting never does
            // (fail closed).
            log.warn("Workspaces will not be removed on this platform: {}", e.getMessage());
        }
    }

    /** The quarantine directory, for tests. */
    Path quarantine() {
        return root.resolve(QUARANTINE);
    }

    /**
     * Removes a session's workspace in the background (after DELETE /api/sessions/{id}).
     */
    void removeInBackground(UUID sessionId) {
        Pools current = pools;
        if (current == null) {
            log.info("Not removing the workspace of session {} now (shutting down); the sweeper will", sessionId);
            return;
        }
        try {
            current.background().execute(() -> {
                try {
                    quarantineWorkspace(sessionId).ifPresent(entry -> {
                        TreeDeleter.Result result = deleteQuarantined(entry);
                        count(result.complete() ? "removed" : "failed", "delete");
                    });
                }
                catch (IOException | RuntimeException e) {
                    count("failed", "delete");
                    log.warn("Could not remove the workspace of session {}: {}; the sweeper will retry", sessionId,
                            e.toString());
                }
            });
        }
        catch (RejectedExecutionException e) {
            if (current.background().isShutdown()) {
                log.info("Not removing the workspace of session {} now (shutting down); the sweeper will", sessionId);
            }
            else {
                log.warn("Workspace removal queue full; the sweeper will remove the workspace of session {}",
                        sessionId);
            }
        }
    }

    /**
     * Moves the workspace of a session into quarantine; returns its name there. Empty
     * when there is none, or when the name at the top is not a real directory (a link or
     * a file is never moved or followed).
     */
    Optional<Path> quarantineWorkspace(UUID sessionId) throws IOException {
        Path name = Path.of(sessionId.toString());
        try (SecureDirectoryStream<Path> rootStream = TreeDeleter.openSecure(root);
                SecureDirectoryStream<Path> quarantine = openQuarantine(rootStream)) {
            BasicFileAttributes attributes;
            try {
                attributes = rootStream
                    .getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .readAttributes();
            }
            catch (NoSuchFileException e) {
                return Optional.empty();
            }
            if (!attributes.isDirectory()) {
                return Optional.empty();
            }
            Path target = Path.of(sessionId + "." + clock.millis() + "." + sequence.incrementAndGet());
            beforeMove.check(sessionId);
            try {
                rootStream.move(name, quarantine, target);
            }
            catch (NoSuchFileException e) {
                return Optional.empty();
            }
            return Optional.of(target);
        }
    }

    /**
     * Deletes one quarantined tree by its name there; what cannot be deleted stays for
     * later.
     */
    TreeDeleter.Result deleteQuarantined(Path name) {
        Pools current = pools;
        if (current == null) {
            return new TreeDeleter.Result(0, 0, 1); // stopped: it stays in quarantine for
                                                    // a later sweep
        }
        try (SecureDirectoryStream<Path> quarantine = openQuarantine()) {
            TreeDeleter.Result result = current.deleter().delete(quarantine, name);
            filesDeleted.increment(result.filesDeleted());
            if (!result.complete()) {
                log.info("Quarantined workspace {} not fully deleted ({} entries left); a later sweep retries", name,
                        result.failures());
            }
            return result;
        }
        catch (IOException | RuntimeException e) {
            if (current.deleteWorkers().isShutdown()) {
                log.info("Deleting quarantined workspace {} stopped for shutdown; a later sweep finishes it", name);
            }
            else {
                log.warn("Could not delete quarantined workspace {}: {}", name, e.toString());
            }
            return new TreeDeleter.Result(0, 0, 1);
        }
    }

    /**
     * Trees waiting in quarantine that a delete left behind (cut short, or not fully
     * deletable), oldest first; recent ones are skipped, their own removal may still be
     * at work.
     */
    List<Path> leftovers() throws IOException {
        List<Path> entries = new ArrayList<>();
        Instant retryBefore = clock.instant().minus(RETRY_AFTER);
        try (SecureDirectoryStream<Path> quarantine = openQuarantine()) {
            for (Path entry : quarantine) {
                Path name = entry.getFileName();
                if (quarantinedAt(name).isBefore(retryBefore)) {
                    entries.add(name);
                }
            }
        }
        entries.sort(Comparator.comparing(WorkspaceRemoval::quarantinedAt));
        return entries;
    }

    /**
     * Names are {@code <session id>.<epoch millis>.<sequence>}; anything else counts as
     * old.
     */
    private static Instant quarantinedAt(Path name) {
        String[] parts = name.toString().split("\\.");
        try {
            return parts.length >= 2 ? Instant.ofEpochMilli(Long.parseLong(parts[1])) : Instant.EPOCH;
        }
        catch (NumberFormatException e) {
            return Instant.EPOCH;
        }
    }

    private SecureDirectoryStream<Path> openQuarantine() throws IOException {
        try (SecureDirectoryStream<Path> rootStream = TreeDeleter.openSecure(root)) {
            return openQuarantine(rootStream);
        }
    }

    /**
     * Opens the quarantine without following a link; makes it (again) if it is missing or
     * not a directory.
     */
    private SecureDirectoryStream<Path> openQuarantine(SecureDirectoryStream<Path> rootStream) throws IOException {
        for (int attempt = 0;; attempt++) {
            try {
                return rootStream.newDirectoryStream(QUARANTINE_NAME, LinkOption.NOFOLLOW_LINKS);
            }
            catch (NoSuchFileException e) {
                try {
                    Files.createDirectory(root.resolve(QUARANTINE));
                }
                catch (FileAlreadyExistsException raced) {
                    // made meanwhile (another replica): open it
                }
            }
            catch (IOException e) {
                if (attempt > 2) {
                    throw e;
                }
                log.warn("{} under the workspace root is not a directory (a link or a file); replacing it", QUARANTINE);
                rootStream.deleteFile(QUARANTINE_NAME);
            }
            if (attempt > 3) {
                throw new IOException("Cannot open the quarantine directory under the workspace root");
            }
        }
    }

    void count(String result, String source) {
        registry.counter("collab.sweeper.workspaces", "result", result, "source", source).increment();
    }

    @Override
    public void start() {
        ForkJoinPool deleteWorkers = new ForkJoinPool(deleteWorkerCount, pool -> {
            var thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
            thread.setName("workspace-delete-" + thread.getPoolIndex());
            thread.setDaemon(true);
            return thread;
        }, null, false);
        // One removal at a time in the background (each uses all delete workers); a full
        // queue
        // is not a loss: the ENDED session's directory is an orphan the sweeper removes
        // later.
        ThreadPoolExecutor background = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(10_000), Thread.ofPlatform().daemon().name("workspace-removal").factory());
        pools = new Pools(deleteWorkers, new TreeDeleter(deleteWorkers), background);
    }

    /**
     * Queued removals are dropped and deletes under way cut short: their trees wait for a
     * sweep.
     */
    @Override
    public void stop() {
        Pools current = pools;
        pools = null;
        if (current != null) {
            current.background().shutdownNow();
            current.deleteWorkers().shutdownNow();
        }
    }

    @Override
    public boolean isRunning() {
        return pools != null;
    }

    @Override
    public int getPhase() {
        return ShutdownOrder.BACKGROUND;
    }

    private record Pools(ForkJoinPool deleteWorkers, TreeDeleter deleter, ThreadPoolExecutor background) {
    }

}
