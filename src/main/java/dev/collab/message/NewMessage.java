package dev.collab.message;

import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;

/**
 * The body of {@code POST /api/sessions/{id}/messages}.
 *
 * @param text 1..100,000 characters
 * @param author 1..100 characters
 */
record NewMessage(@NotNull @Size(min = 1, max = 100_000) String text,
        @NotNull @Size(min = 1, max = 100) String author) {
}
