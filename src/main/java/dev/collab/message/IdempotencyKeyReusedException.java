package dev.collab.message;

/**
 * The Idempotency-Key was used on this session with a different body (answered as
 * {@code 422 idempotency-key-reused}): the first send's answer cannot be replayed for it.
 */
public class IdempotencyKeyReusedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    IdempotencyKeyReusedException() {
        super("This Idempotency-Key was used on this session with a different body; use a new key.", null, false,
                false);
    }

}
