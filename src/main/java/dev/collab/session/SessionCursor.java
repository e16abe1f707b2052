package dev.collab.session;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.UUID;

/**
 * Opaque keyset cursor of the session list: the sort key {@code (lastActivityAt, id)} of
 * the last session of a page. Encoded as base64url text so clients treat it as a token.
 */
record SessionCursor(Instant lastActivityAt, UUID id) {

    private static final String VERSION = "s1";

    static SessionCursor after(Session session) {
        return new SessionCursor(session.lastActivityAt(), session.id());
    }

    String encode() {
        long micros = Math.addExact(Math.multiplyExact(lastActivityAt.getEpochSecond(), 1_000_000L),
                lastActivityAt.getNano() / 1_000L);
        String plain = VERSION + "." + micros + "." + id;
        return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * @throws InvalidCursorException for anything this server did not hand out
     */
    static SessionCursor decode(String token) {
        try {
            if (token.length() > 128) {
                throw new IllegalArgumentException("too long");
            }
            String plain = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.US_ASCII);
            String[] parts = plain.split("\\.", -1);
            if (parts.length != 3 || !parts[0].equals(VERSION) || parts[2].length() != 36) {
                throw new IllegalArgumentException("not a cursor");
            }
            long micros = Long.parseLong(parts[1]);
            UUID id = UUID.fromString(parts[2]);
            if (!id.toString().equals(parts[2])) {
                throw new IllegalArgumentException("not a canonical id");
            }
            return new SessionCursor(Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L),
                    Math.floorMod(micros, 1_000_000L) * 1_000L), id);
        }
        catch (IllegalArgumentException | ArithmeticException e) {
            throw new InvalidCursorException();
        }
    }
}
