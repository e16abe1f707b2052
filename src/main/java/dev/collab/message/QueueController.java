package dev.collab.message;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import dev.collab.api.ProblemResponses;
import dev.collab.web.ProblemCode;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /api/sessions/{id}/queue}: the messages waiting for the run in progress, and
 * cancelling one or moving it to the front (docs/api.md).
 */
@RestController
class QueueController {

    private final MessageQueue queue;

    QueueController(MessageQueue queue) {
        this.queue = queue;
    }

    @Operation(summary = "The session's queued messages, next first (project viewer+)")
    @GetMapping(path = "/api/sessions/{id}/queue", produces = "application/json")
    QueueList list(@PathVariable UUID id) {
        return QueueList.of(queue.list(id));
    }

    @Operation(summary = "Cancel a queued message (its author, or a project admin)")
    @ApiResponse(responseCode = "204", description = "Cancelled")
    @ProblemResponses({ ProblemCode.FORBIDDEN, ProblemCode.MESSAGE_NOT_QUEUED })
    @DeleteMapping(path = "/api/sessions/{id}/queue/{messageId}")
    ResponseEntity<Void> cancel(@PathVariable UUID id, @PathVariable UUID messageId) {
        queue.cancel(id, messageId);
        return ResponseEntity.noContent().build();
    }

    @Operation(summary = "Move a queued message to the front of the queue (project admin); answers the queue")
    @ProblemResponses({ ProblemCode.FORBIDDEN, ProblemCode.MESSAGE_NOT_QUEUED })
    @PostMapping(path = "/api/sessions/{id}/queue/{messageId}/move-to-front", produces = "application/json")
    QueueList moveToFront(@PathVariable UUID id, @PathVariable UUID messageId) {
        return QueueList.of(queue.moveToFront(id, messageId));
    }

    /** The queue, next first. */
    record QueueList(List<QueuedMessage> items) {

        static QueueList of(List<MessageQueue.Item> items) {
            return new QueueList(items.stream()
                .map(item -> new QueuedMessage(item.messageId(), item.text(), item.author(), item.queuedAt(),
                        item.position()))
                .toList());
        }

    }

    /**
     * One queued message.
     *
     * @param author the login of who sent it
     * @param position 1: the next to start
     */
    record QueuedMessage(UUID messageId, String text, String author, Instant queuedAt, int position) {
    }

}
