package dev.collab.run;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import dev.collab.ops.ShutdownOrder;
import org.jspecify.annotations.Nullable;
import org.springframework.context.SmartLifecycle;

/**
 * Periodic work that runs must have until they have stopped ({@link RunLeases},
 * {@link DescendantWatch}): a lifecycle at {@link ShutdownOrder#RUN_UPKEEP}, below
 * {@link ShutdownOrder#RUNS}, on a thread of its own. Not Spring's task scheduler: it
 * runs every fixed-delay job on one shared thread and shuts that thread down when the
 * context starts closing, before the drain, while runs still run; and a slow job on the
 * shared thread would hold this one up.
 * <p>
 * Subclasses reach the runner through an {@code ObjectProvider}, never injected: Spring
 * stops a lifecycle bean's dependents before it, whatever their phases, so a plain
 * dependency on the runner would stop the upkeep when the runs start stopping instead of
 * after them.
 */
abstract class RunUpkeep implements SmartLifecycle {

    private final String threadName;

    private final Duration period;

    private @Nullable ScheduledExecutorService executor;

    RunUpkeep(String threadName, Duration period) {
        this.threadName = threadName;
        this.period = period;
    }

    /** One round of the work; must not throw (the next round would not come). */
    abstract void runOnce();

    @Override
    public synchronized void start() {
        if (executor == null) {
            ScheduledExecutorService scheduled = Executors
                .newSingleThreadScheduledExecutor(Thread.ofVirtual().name(threadName).factory());
            scheduled.scheduleWithFixedDelay(this::runOnce, period.toMillis(), period.toMillis(),
                    TimeUnit.MILLISECONDS);
            executor = scheduled;
        }
    }

    /**
     * After the runs stopped: no round starts any more; one under way finishes on its
     * own.
     */
    @Override
    public synchronized void stop() {
        if (executor != null) {
            executor.shutdown();
            executor = null;
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return executor != null;
    }

    @Override
    public int getPhase() {
        return ShutdownOrder.RUN_UPKEEP;
    }

}
