package dev.collab.approval;

import java.time.Duration;

import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Approvals' setting, with the runner's ({@code collab.runner.*}, docs/runner.md): the
 * runner waits for the decision, so its settings are where an operator looks.
 *
 * @param approvalTimeout a request for permission nobody decided within this long is
 * denied (at least 1s)
 */
@Validated
@ConfigurationProperties("collab.runner")
record ApprovalProperties(@NotNull @DurationMin(seconds = 1) @DefaultValue("10m") Duration approvalTimeout) {
}
