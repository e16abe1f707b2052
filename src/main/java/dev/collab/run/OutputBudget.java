package dev.collab.run;

import java.util.concurrent.atomic.AtomicLong;

/**
 * How much agent output all runs of this instance together hold while it waits to be
 * appended ({@code collab.runner.output-max-pending-chars}). One budget for the server
 * rather than one per run: during a database outage every run keeps printing, and a bound
 * per run would grow with the number of runs.
 */
final class OutputBudget {

    private final long maxChars;

    private final AtomicLong used = new AtomicLong();

    OutputBudget(long maxChars) {
        this.maxChars = maxChars;
    }

    /**
     * Counts {@code chars} more as held; returns how many chars all runs now hold over
     * the budget (0: within).
     */
    long take(int chars) {
        return Math.max(0, used.addAndGet(chars) - maxChars);
    }

    /** They were appended or dropped. */
    void release(long chars) {
        used.addAndGet(-chars);
    }

    long used() {
        return used.get();
    }

}
