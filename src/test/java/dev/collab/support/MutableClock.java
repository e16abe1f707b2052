package dev.collab.support;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/** A clock tests can freeze and move; follows the system clock until frozen. */
public class MutableClock extends Clock {

    private final AtomicReference<Instant> frozen = new AtomicReference<>();

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public Instant instant() {
        Instant at = frozen.get();
        return at != null ? at : Instant.now();
    }

    public void freezeAt(Instant instant) {
        frozen.set(instant);
    }

    public void advance(Duration duration) {
        frozen.updateAndGet(at -> (at != null ? at : Instant.now()).plus(duration));
    }

    public void release() {
        frozen.set(null);
    }

}
