package dev.collab.access;

import java.util.UUID;

import org.jspecify.annotations.Nullable;

/**
 * What a long-lived request (a live stream) was authorised with when it opened: the user,
 * the credential it came with (a personal access token's id, or the browser session's id)
 * and the project. {@link AccessGrants#lost} tells, for many grants in one query, which
 * no longer hold. Equal grants (the same user, credential and project) are checked once.
 *
 * @param userId the user
 * @param tokenId the personal access token of a bearer request, null for a browser
 * session
 * @param browserSession the Spring Session id of a browser session, null for a bearer
 * request
 * @param projectKey the project the request reads
 */
public record AccessGrant(UUID userId, @Nullable UUID tokenId, @Nullable String browserSession, String projectKey) {

    /**
     * Without the browser session's id: that id is what the session cookie carries, a
     * credential, and must never reach a log line.
     */
    @Override
    public String toString() {
        return "AccessGrant[user=" + userId + ", "
                + (tokenId != null ? "token=" + tokenId : browserSession != null ? "browser session" : "no credential")
                + ", project=" + projectKey + "]";
    }

}
