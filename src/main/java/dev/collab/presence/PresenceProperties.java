package dev.collab.presence;

import java.time.Duration;

import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMax;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Presence settings ({@code collab.presence.*}, docs/configuration.md).
 *
 * @param heartbeat how often an instance renews the presence of its open streams, and
 * deletes any instance's rows past the expiry (100ms..1m)
 * @param expiry a watcher whose instance has not renewed their stream for this long is
 * gone (the instance died): at least twice the heartbeat, at most 10m. A dead instance's
 * watchers disappear within expiry + heartbeat.
 */
@Validated
@ConfigurationProperties("collab.presence")
record PresenceProperties(
        @NotNull @DurationMin(millis = 100) @DurationMax(minutes = 1) @DefaultValue("5s") Duration heartbeat,
        @NotNull @DurationMin(millis = 200) @DurationMax(minutes = 10) @DefaultValue("20s") Duration expiry) {

    @AssertTrue(message = "expiry must be at least twice the heartbeat")
    boolean isExpiryAfterHeartbeats() {
        return heartbeat == null || expiry == null || expiry.compareTo(heartbeat.multipliedBy(2)) >= 0;
    }

}
