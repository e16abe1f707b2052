package dev.collab.workspace;

import java.nio.file.FileStore;
import java.nio.file.Files;
import java.time.Duration;

import dev.collab.ops.BackgroundHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.stereotype.Component;
import org.springframework.util.unit.DataSize;

/**
 * The {@code workspace} health component: free space on the workspace volume. Runs in the
 * background (statfs on a network filesystem can hang) and reports no paths.
 */
@Component("workspaceHealthIndicator")
class WorkspaceHealthIndicator extends BackgroundHealthIndicator {

    private static final DataSize THRESHOLD = DataSize.ofMegabytes(100);

    private final Workspaces workspaces;

    WorkspaceHealthIndicator(Workspaces workspaces, TaskScheduler scheduler) {
        super("workspace", Duration.ofSeconds(5), scheduler);
        this.workspaces = workspaces;
    }

    @Override
    protected Health check() throws Exception {
        FileStore store = Files.getFileStore(workspaces.root());
        long free = store.getUsableSpace();
        return (free >= THRESHOLD.toBytes() ? Health.up() : Health.down()).withDetail("free", free)
            .withDetail("total", store.getTotalSpace())
            .withDetail("threshold", THRESHOLD.toBytes())
            .withDetail("writable", Files.isWritable(workspaces.root()))
            .build();
    }

}
