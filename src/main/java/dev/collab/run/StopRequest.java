package dev.collab.run;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Why a run was stopped and the one kill of its processes. Stops arrive from several
 * threads at once (an interrupt, the timeout, shutdown, every lease tick of a run that
 * lost its lease): the first reason wins in one atomic step, and the kill (which
 * escalates to SIGKILL by itself) is started once, however many stops follow.
 */
final class StopRequest {

    private final AtomicReference<@Nullable StopReason> reason = new AtomicReference<>();

    private final AtomicBoolean killStarted = new AtomicBoolean();

    private final Consumer<Runnable> starter;

    /**
     * @param starter starts the kill off the caller's thread (a test may run it inline)
     */
    StopRequest(Consumer<Runnable> starter) {
        this.starter = starter;
    }

    /**
     * Records the reason unless one was recorded already, and starts the kill unless it
     * was started.
     * @return true for the one call whose reason was recorded
     */
    boolean request(StopReason stopReason, Runnable kill) {
        boolean first = reason.compareAndSet(null, stopReason);
        if (killStarted.compareAndSet(false, true)) {
            starter.accept(kill);
        }
        return first;
    }

    /** The recorded reason, null while nobody asked the run to stop. */
    @Nullable StopReason reason() {
        return reason.get();
    }

}
