package dev.collab.session;

import java.time.Instant;
import java.util.Base64;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SessionCursorTest {

    @Test
    void roundTripsMicrosecondTimesAndIds() {
        SessionCursor cursor = new SessionCursor(Instant.parse("2026-11-22T13:44:47.365925Z"), UUID.randomUUID());
        assertThat(SessionCursor.decode(cursor.encode())).isEqualTo(cursor);
    }

    @Test
    void roundTripsTimesBeforeTheEpoch() {
        SessionCursor cursor = new SessionCursor(Instant.parse("1969-12-31T23:59:59.999999Z"), UUID.randomUUID());
        assertThat(SessionCursor.decode(cursor.encode())).isEqualTo(cursor);
    }

    @Test
    void isUrlSafeText() {
        String token = new SessionCursor(Instant.now(), UUID.randomUUID()).encode();
        assertThat(token).matches("[A-Za-z0-9_-]+");
    }

    @ParameterizedTest
    @ValueSource(strings = { "", "%%%", "czEuMTIz", "bm90LWEtY3Vyc29y" })
    void rejectsGarbage(String token) {
        assertThatThrownBy(() -> SessionCursor.decode(token)).isInstanceOf(InvalidCursorException.class)
            .hasMessageContaining("cursor");
    }

    @Test
    void rejectsTamperedParts() {
        String nonCanonicalId = "s1.1000.1-1-1-1-1";
        String wrongVersion = "s0.1000." + UUID.randomUUID();
        String notANumber = "s1.abc." + UUID.randomUUID();
        for (String plain : new String[] { nonCanonicalId, wrongVersion, notANumber }) {
            String token = Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(US_ASCII));
            assertThatThrownBy(() -> SessionCursor.decode(token)).as(plain).isInstanceOf(InvalidCursorException.class);
        }
        assertThatThrownBy(() -> SessionCursor.decode("A".repeat(500))).isInstanceOf(InvalidCursorException.class);
    }

}
