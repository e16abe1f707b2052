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

    /**
     * The first stop's reason and who asked, recorded together in one step so that a
     * reader never sees the reason without its user.
     */
    private final AtomicReference<@Nullable Stop> first = new AtomicReference<>();

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
        return request(stopReason, null, kill);
    }

    /**
     * As {@link #request(StopReason, Runnable)}, by a user.
     * @param by the login of the user who interrupted the run, null when nobody did
     */
    boolean request(StopReason stopReason, @Nullable String by, Runnable kill) {
        boolean recorded = first.compareAndSet(null, new Stop(stopReason, by));
        if (killStarted.compareAndSet(false, true)) {
            starter.accept(kill);
        }
        return recorded;
    }

    /** The recorded reason, null while nobody asked the run to stop. */
    @Nullable StopReason reason() {
        Stop stop = first.get();
        return stop == null ? null : stop.reason();
    }

    /** The login of the user whose stop was recorded, null for any other stop. */
    @Nullable String by() {
        Stop stop = first.get();
        return stop == null ? null : stop.by();
    }

    private record Stop(StopReason reason, @Nullable String by) {
    }

}
