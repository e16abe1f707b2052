package dev.collab.workspace;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * Removes workspaces: move first, then delete. The doomed directory is renamed into the
 * quarantine directory under the root (same filesystem, atomic), so a half-deleted tree never
 * sits under a live name; a delete cut short (kill, NFS trouble) stays in quarantine and the
 * next sweep finishes it. Deletion runs on its own bounded pool, never on a request thread.
 */
@Component
class WorkspaceRemoval implements DisposableBean {

    /** Under the workspace root; not a session id, so never taken for a workspace. */
    static final String QUARANTINE = ".collab-quarantine";

    private static final Logger log = LoggerFactory.getLogger(WorkspaceRemoval.class);

    private final Path root;
    private final Path quarantine;
    private final ForkJoinPool deleteWorkers;
    private final TreeDeleter deleter;
    private final ThreadPoolExecutor background;
    private final Counter filesDeleted;
    private final MeterRegistry registry;
    private final AtomicLong sequence = new AtomicLong();

    WorkspaceRemoval(Workspaces workspaces, SweeperProperties properties, MeterRegistry registry) throws IOException {
        this.root = workspaces.root();
        this.quarantine = Files.createDirectories(root.resolve(QUARANTINE));
        this.deleteWorkers = new ForkJoinPool(properties.deleteWorkers(), pool -> {
            var thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
            thread.setName("workspace-delete-" + thread.getPoolIndex());
            thread.setDaemon(true);
            return thread;
        }, null, false);
        this.deleter = new TreeDeleter(deleteWorkers);
        // One removal at a time in the background (each uses all delete workers); a full queue
        // is not a loss: the ENDED session's directory is an orphan the sweeper removes later.
        this.background = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(10_000),
                Thread.ofPlatform().daemon().name("workspace-removal").factory());
        this.registry = registry;
        this.filesDeleted = Counter.builder("collab.sweeper.files.deleted")
                .description("Files and links deleted from workspaces").register(registry);
    }

    Path quarantine() {
        return quarantine;
    }

    /** Removes a session's workspace in the background (after DELETE /api/sessions/{id}). */
    void removeInBackground(UUID sessionId) {
        try {
            background.execute(() -> {
                try {
                    quarantineWorkspace(sessionId).ifPresent(entry -> {
                        TreeDeleter.Result result = deleteQuarantined(entry);
                        count(result.complete() ? "removed" : "failed", "delete");
                    });
                } catch (IOException | RuntimeException e) {
                    count("failed", "delete");
                    log.warn("Could not remove the workspace of session {}: {}; the sweeper will retry", sessionId,
                            e.toString());
                }
            });
        } catch (RejectedExecutionException e) {
            log.warn("Workspace removal queue full; the sweeper will remove the workspace of session {}", sessionId);
        }
    }

    /**
     * Moves the workspace of a session into quarantine. Empty when there is none, or when the
     * name at the top is not a real directory (a link or a file is never moved or followed).
     */
    Optional<Path> quarantineWorkspace(UUID sessionId) throws IOException {
        Path workspace = root.resolve(sessionId.toString());
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(workspace, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        if (!attributes.isDirectory()) {
            return Optional.empty();
        }
        Path target = quarantine.resolve(sessionId + "." + System.currentTimeMillis() + "." + sequence.incrementAndGet());
        try {
            Files.move(workspace, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("The quarantine is not on the workspace filesystem; refusing a non-atomic move", e);
        }
        return Optional.of(target);
    }

    /** Deletes one quarantined tree; what cannot be deleted stays for the next sweep. */
    TreeDeleter.Result deleteQuarantined(Path entry) {
        try {
            TreeDeleter.Result result = deleter.delete(quarantine, entry.getFileName());
            filesDeleted.increment(result.filesDeleted());
            if (!result.complete()) {
                log.info("Quarantined workspace {} not fully deleted ({} entries left); the next sweep retries",
                        entry.getFileName(), result.failures());
            }
            return result;
        } catch (IOException | RuntimeException e) {
            log.warn("Could not delete quarantined workspace {}: {}", entry.getFileName(), e.toString());
            return new TreeDeleter.Result(0, 0, 1);
        }
    }

    /** What is waiting in quarantine (left by a delete cut short), oldest name first. */
    List<Path> quarantined() throws IOException {
        List<Path> entries = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(quarantine)) {
            stream.forEach(entries::add);
        }
        entries.sort(null);
        return entries;
    }

    void count(String result, String source) {
        registry.counter("collab.sweeper.workspaces", "result", result, "source", source).increment();
    }

    @Override
    public void destroy() {
        background.shutdownNow();
        deleteWorkers.shutdownNow();
    }
}
