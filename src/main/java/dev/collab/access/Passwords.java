package dev.collab.access;

import java.util.Map;

import org.jspecify.annotations.Nullable;
import org.springframework.security.crypto.argon2.Argon2PasswordEncoder;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.security.crypto.password.DelegatingPasswordEncoder;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.crypto.password.Pbkdf2PasswordEncoder;
import org.springframework.stereotype.Component;

/**
 * Password hashing with Spring Security's delegating encoder, so every stored hash names
 * its algorithm ({@code {argon2@SpringSecurity_v5_8}…}) and a later switch needs no
 * migration. New hashes are Argon2id with Spring Security's 5.8 parameters (16 MiB of
 * memory, 2 iterations, a 16-byte salt; BouncyCastle computes it). Not bcrypt: bcrypt
 * reads at most 72 bytes and Spring's encoder refuses longer passwords (a passphrase of
 * emoji or CJK reaches that fast). PBKDF2 hashes (written by the first builds of issue
 * 13) and bcrypt hashes are still accepted.
 */
@Component
class Passwords {

    static final int MIN_LENGTH = 12;
    static final int MAX_LENGTH = 200;

    private static final String DEFAULT_ID = "argon2@SpringSecurity_v5_8";

    private final PasswordEncoder encoder = new DelegatingPasswordEncoder(DEFAULT_ID,
            Map.of(DEFAULT_ID, Argon2PasswordEncoder.defaultsForSpringSecurity_v5_8(), "pbkdf2@SpringSecurity_v5_8",
                    Pbkdf2PasswordEncoder.defaultsForSpringSecurity_v5_8(), "bcrypt", new BCryptPasswordEncoder()));

    /**
     * Checked against for an unknown login, so it costs what a wrong password costs (no
     * timing oracle).
     */
    private final String dummyHash = encoder.encode("dummy-password-for-unknown-logins");

    String hash(String password) {
        return encoder.encode(password);
    }

    /**
     * Whether {@code password} matches {@code hash}; a null hash (unknown user,
     * OIDC-only) is checked against a dummy.
     */
    boolean matches(@Nullable String password, @Nullable String hash) {
        boolean matched = encoder.matches(password == null ? "" : password, hash == null ? dummyHash : hash);
        return password != null && hash != null && matched;
    }

    /** The problem with a new password, or null if it is acceptable. */
    static @Nullable String problem(@Nullable String password) {
        // Characters are code points (an emoji is one), as everywhere in the API.
        int length = password == null ? 0 : password.codePointCount(0, password.length());
        if (length < MIN_LENGTH) {
            return "must be at least " + MIN_LENGTH + " characters";
        }
        if (length > MAX_LENGTH) {
            return "must be at most " + MAX_LENGTH + " characters";
        }
        return null;
    }

}
