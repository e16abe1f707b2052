package dev.collab.access;

import java.time.Instant;
import java.util.UUID;

import org.jspecify.annotations.Nullable;
import org.springframework.data.annotation.Id;
import org.springframework.data.relational.core.mapping.Table;

/**
 * A user (the aggregate of {@code users}). {@code passwordHash} is the delegating
 * encoder's string ({@code {bcrypt}…}), null for users who only log in through OIDC; it
 * never leaves this package.
 */
@Table("users")
record User(@Id UUID id, String login, String displayName, @Nullable String email, @Nullable String passwordHash,
        boolean admin, boolean disabled, Instant createdAt, @Nullable String oidcIssuer, @Nullable String oidcSubject) {

    CurrentUser current() {
        return new CurrentUser(id, login, displayName, admin);
    }

    UserView view() {
        return new UserView(id, login, displayName, email, admin, disabled, createdAt);
    }

    User with(String displayName, @Nullable String email, @Nullable String passwordHash, boolean admin,
            boolean disabled) {
        return new User(id, login, displayName, email, passwordHash, admin, disabled, createdAt, oidcIssuer,
                oidcSubject);
    }

    @Override
    public String toString() {
        // Never the password hash, should a user ever be logged.
        return "User[id=" + id + ", login=" + login + ", admin=" + admin + ", disabled=" + disabled + "]";
    }
}
