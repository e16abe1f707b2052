package dev.collab.access;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

import dev.collab.web.ApiException;

/**
 * Opaque keyset cursor of {@code GET /api/audit}: the sort key {@code (at, id)} of the
 * last row of a page, as base64url text (the style of the session list's cursor).
 */
record AuditCursor(Instant at, long id) {

    private static final String VERSION = "a1";

    /** 0001-01-01T00:00:00Z in microseconds since the epoch. */
    private static final long EARLIEST = -62_135_596_800_000_000L;

    /** 9999-12-31T23:59:59.999999Z in microseconds since the epoch. */
    private static final long LATEST = 253_402_300_799_999_999L;

    String encode() {
        long micros = Math.addExact(Math.multiplyExact(at.getEpochSecond(), 1_000_000L), at.getNano() / 1_000L);
        String plain = VERSION + "." + micros + "." + id;
        return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * @throws ApiException {@code validation-failed} (field {@code cursor}) for anything
     * this server did not hand out
     */
    static AuditCursor decode(String token) {
        try {
            if (token.length() > 128) {
                throw new IllegalArgumentException("too long");
            }
            String plain = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.US_ASCII);
            String[] parts = plain.split("\\.", -1);
            if (parts.length != 3 || !parts[0].equals(VERSION)) {
                throw new IllegalArgumentException("not a cursor");
            }
            long micros = Long.parseLong(parts[1]);
            long id = Long.parseLong(parts[2]);
            // One spelling per cursor: no plus sign, no leading zeros. Only times an
            // audit row can have: PostgreSQL refuses far ones (an error, not an empty
            // page).
            if (!Long.toString(micros).equals(parts[1]) || !Long.toString(id).equals(parts[2]) || id < 1
                    || micros < EARLIEST || micros > LATEST) {
                throw new IllegalArgumentException("not canonical");
            }
            AuditCursor cursor = new AuditCursor(Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L),
                    Math.floorMod(micros, 1_000_000L) * 1_000L), id);
            // And only the encoding this server writes (no padding, no other bits).
            if (!cursor.encode().equals(token)) {
                throw new IllegalArgumentException("not canonical");
            }
            return cursor;
        }
        catch (IllegalArgumentException | ArithmeticException | java.time.DateTimeException e) {
            throw ApiException.invalid("cursor", "is not a cursor returned by this API");
        }
    }

}
