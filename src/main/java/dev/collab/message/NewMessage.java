package dev.collab.message;

import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import org.jspecify.annotations.Nullable;

/**
 * The body of {@code POST /api/sessions/{id}/messages}.
 *
 * @param text 1..100,000 characters
 * @param author accepted for older clients and ignored, whatever its JSON type: the
 * {@code message} event's author is the caller's login, never what the body says
 */
record NewMessage(@NotNull @Size(min = 1, max = 100_000) String text, @Schema(deprecated = true,
        description = "Ignored, whatever its type: the author is the caller's login") @Nullable Object author) {
}
