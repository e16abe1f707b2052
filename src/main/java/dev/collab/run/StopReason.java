package dev.collab.run;

/**
 * Why the runner stopped a run's agent; the first reason given decides how the run ends.
 */
enum StopReason {

    /** A user interrupted the run, its session ended, or its lease was found lost. */
    INTERRUPT,
    /** The run took longer than {@code collab.runner.timeout}. */
    TIMEOUT,
    /** This instance is shutting down. */
    SHUTDOWN

}
