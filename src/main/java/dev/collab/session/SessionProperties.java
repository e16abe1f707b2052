package dev.collab.session;

import java.time.Duration;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMin;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Session settings ({@code collab.session.*}).
 *
 * @param endIdleAfter retention: sessions IDLE with no activity for longer than this are
 * ended (unset: never)
 * @param idleCheckInterval how often this instance looks for such sessions
 * @param idleEndBatch at most this many sessions ended per check
 */
@Validated
@ConfigurationProperties("collab.session")
record SessionProperties(@DurationMin(nanos = 0, inclusive = false) @Nullable Duration endIdleAfter,
        @NotNull @DurationMin(nanos = 0, inclusive = false) @DefaultValue("1m") Duration idleCheckInterval,
        @Min(1) @Max(10_000) @DefaultValue("100") int idleEndBatch) {
}
