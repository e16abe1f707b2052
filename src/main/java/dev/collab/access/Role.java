package dev.collab.access;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import org.jspecify.annotations.Nullable;

/** A user's role in a project; each includes what the lower ones may do (CONTRACT.md). */
public enum Role {

    /** Reads the project, its sessions, history and streams. */
    VIEWER,
    /** Also creates sessions, sends messages and interrupts. */
    MEMBER,
    /** Also changes the project, its members, and deletes sessions. */
    ADMIN;

    @JsonValue
    public String slug() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * The role of a slug ({@code viewer}, {@code member}, {@code admin}), or null for
     * anything else.
     */
    @JsonCreator
    public static @Nullable Role ofSlug(@Nullable String slug) {
        for (Role role : values()) {
            if (role.slug().equals(slug)) {
                return role;
            }
        }
        return null;
    }

    public boolean includes(Role other) {
        return compareTo(other) >= 0;
    }

}
