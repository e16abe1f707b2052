package dev.collab.access;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import dev.collab.web.ApiException;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code /api/tokens}: the caller's personal access tokens (docs/api.md). */
@RestController
@RequestMapping(path = "/api/tokens", produces = "application/json")
class TokenController {

    private final AccessTokens tokens;

    private final ProjectAccess access;

    TokenController(AccessTokens tokens, ProjectAccess access) {
        this.tokens = tokens;
        this.access = access;
    }

    @Operation(summary = "The caller's tokens (never the tokens themselves)")
    @GetMapping
    TokenList list() {
        return new TokenList(tokens.list(access.currentUser()));
    }

    @Operation(summary = "Create a token: the answer is the only time it is shown")
    @ApiResponse(responseCode = "201", description = "Created")
    @PostMapping(consumes = "application/json")
    ResponseEntity<AccessTokens.CreatedToken> create(@Valid @RequestBody NewToken body) {
        // An expiry in the past makes a token that never works: harmless, so not refused.
        @Nullable Instant expiresAt;
        try {
            expiresAt = body.expiresAt() == null ? null : Instant.parse(body.expiresAt());
        }
        catch (java.time.format.DateTimeParseException e) {
            throw ApiException.invalid("expiresAt", "must be an ISO-8601 UTC time such as 2030-01-31T12:00:00Z");
        }
        // A token may make tokens, but none that outlives it: a leaked short-lived token
        // cannot be turned into a permanent one (review 13a).
        java.util.@Nullable UUID callerToken = SecurityContextHolder.getContext()
            .getAuthentication() instanceof UserAuthentication caller ? caller.tokenId() : null;
        if (callerToken != null) {
            @Nullable Instant limit = tokens.expiresAt(callerToken);
            if (limit != null && (expiresAt == null || expiresAt.isAfter(limit))) {
                throw ApiException.invalid("expiresAt",
                        "must not be later than " + limit + ", when the token this request is made with expires");
            }
        }
        return ResponseEntity.status(HttpStatus.CREATED)
            .body(tokens.create(access.currentUser(), body.name(), expiresAt));
    }

    @Operation(summary = "Revoke one of the caller's tokens")
    @ApiResponse(responseCode = "204", description = "Revoked")
    @DeleteMapping("/{id}")
    ResponseEntity<Void> revoke(@PathVariable UUID id) {
        tokens.revoke(access.currentUser(), id);
        return ResponseEntity.noContent().build();
    }

    record TokenList(List<AccessTokens.TokenView> items) {
    }

    /** {@code POST /api/tokens}. */
    record NewToken(@NotBlank @Size(max = 100) @Schema(pattern = "\\S") String name,
            // A string, not an Instant: Jackson would also take a number (seconds since
            // 1970) for an Instant.
            @Schema(types = {
                    "string", "null" }, format = "date-time") String expiresAt){
    }

}
