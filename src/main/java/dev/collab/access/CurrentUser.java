package dev.collab.access;

import java.util.UUID;

/**
 * The user a request is made by, as loaded for this request (a disabled user never
 * becomes one).
 *
 * @param admin a server admin: admin of every project
 */
public record CurrentUser(UUID id, String login, String displayName, boolean admin) implements java.io.Serializable {
}
