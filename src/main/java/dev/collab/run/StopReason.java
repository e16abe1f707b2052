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
    SHUTDOWN,
    /**
     * The protocol ended the run on purpose (an agent that does not exit by itself, such
     * as opencode's server, once its turn is over): recorded by the conversation's
     * {@code failure()}, not by the exit code of the stopped process.
     */
    ENDED

}
