package dev.collab.access;

import java.time.Instant;
import java.util.UUID;

import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;

/** User JSON (CONTRACT.md): what every endpoint answers about a user. */
@Schema(name = "User")
record UserView(UUID id, String login, String displayName, @Schema(types = {
        "string", "null" }) @Nullable String email, boolean admin, boolean disabled, Instant createdAt){
}
