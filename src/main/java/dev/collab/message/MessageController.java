package dev.collab.message;

import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

import dev.collab.api.ProblemResponses;
import dev.collab.web.ApiException;
import dev.collab.web.ProblemCode;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import jakarta.validation.Valid;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/** {@code POST /api/sessions/{id}/messages}: see docs/api.md. */
@RestController
class MessageController {

    private static final Pattern KEY = Pattern.compile("[\\x20-\\x7E]{1,255}");

    private final Sends sends;

    MessageController(Sends sends) {
        this.sends = sends;
    }

    @Operation(summary = "Send a message: starts a run, or queues it while a run is in progress (busyPolicy queue)")
    @ApiResponse(responseCode = "202",
            description = "Accepted; the run starts asynchronously, or the message waits in the queue (`queued`)",
            headers = @Header(name = "Idempotent-Replayed", description = "`true` when this is the first answer again",
                    schema = @Schema(type = "string", allowableValues = "true")),
            content = @Content(mediaType = "application/json",
                    schema = @Schema(ref = "#/components/schemas/MessageAccepted")))
    @ProblemResponses({ ProblemCode.SESSION_BUSY, ProblemCode.QUEUE_FULL, ProblemCode.SESSION_ENDED,
            ProblemCode.IDEMPOTENCY_KEY_REUSED })
    @PostMapping(path = "/api/sessions/{id}/messages", consumes = "application/json", produces = "application/json")
    ResponseEntity<Map<String, Object>> send(@PathVariable UUID id,
            @RequestHeader(name = "Idempotency-Key", required = false) @Parameter(
                    description = "retries with the same key and body get the first answer again",
                    schema = @Schema(type = "string",
                            pattern = "^[\\x20-\\x7E]{1,255}$")) @Nullable String idempotencyKey,
            @Valid @RequestBody NewMessage message) {
        if (idempotencyKey != null && !KEY.matcher(idempotencyKey).matches()) {
            throw ApiException.invalid("Idempotency-Key", "must be 1 to 255 printable ASCII characters");
        }
        Sends.Sent sent = sends.send(id, idempotencyKey, message);
        var response = ResponseEntity.status(HttpStatus.ACCEPTED);
        if (sent.replayed()) {
            response.header("Idempotent-Replayed", "true");
        }
        return response.body(sent.body());
    }

}
