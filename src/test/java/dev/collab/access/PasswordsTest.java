package dev.collab.access;

import org.junit.jupiter.api.Test;
import org.springframework.security.crypto.password.Pbkdf2PasswordEncoder;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Password hashes: Argon2id for new ones (issue 13: "Argon2 or bcrypt"), the PBKDF2
 * hashes of earlier builds still accepted.
 */
class PasswordsTest {

    private final Passwords passwords = new Passwords();

    @Test
    void newHashesAreArgon2idAndSalted() {
        String hash = passwords.hash("correct horse battery");
        assertThat(hash).startsWith("{argon2@SpringSecurity_v5_8}$argon2id$");
        assertThat(passwords.hash("correct horse battery")).isNotEqualTo(hash);
        assertThat(passwords.matches("correct horse battery", hash)).isTrue();
        assertThat(passwords.matches("correct horse batterY", hash)).isFalse();
    }

    @Test
    void pbkdf2HashesOfEarlierBuildsStillMatch() {
        String earlier = "{pbkdf2@SpringSecurity_v5_8}"
                + Pbkdf2PasswordEncoder.defaultsForSpringSecurity_v5_8().encode("correct horse battery");
        assertThat(passwords.matches("correct horse battery", earlier)).isTrue();
        assertThat(passwords.matches("wrong horse battery", earlier)).isFalse();
    }

    @Test
    void anUnknownUserIsCheckedAgainstADummyAndNeverMatches() {
        assertThat(passwords.matches("dummy-password-for-unknown-logins", null)).isFalse();
        assertThat(passwords.matches(null, passwords.hash("correct horse battery"))).isFalse();
    }

}
