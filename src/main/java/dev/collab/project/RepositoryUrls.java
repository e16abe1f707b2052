package dev.collab.project;

/**
 * Which repository URLs a project may have: the ones the workspace's clone can fetch
 * safely. {@code https://} and {@code ssh://} URLs and scp-like {@code user@host:path};
 * {@code file://} only where {@code collab.workspace.allow-file-repos} allows it (tests).
 * Never a password in the URL (credentials come from the server's configuration), never a
 * leading {@code -} (git would take it for an option), no whitespace or control
 * characters, no other transport ({@code http://}, {@code git://}, {@code ext::} runs a
 * command).
 */
final class RepositoryUrls {

    /** Anything but whitespace and control characters (ASCII, C1 and Unicode spaces). */
    private static final String VISIBLE = "[^\\x00-\\x20\\x7F-\\x9F\\u00A0\\u1680\\u2000-\\u200B\\u2028\\u2029\\u202F\\u205F\\u3000\\uFEFF]";

    /** A DNS name or an IPv6 literal: it starts with a letter or digit, never a dash. */
    private static final String HOST = "([A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?)*|\\[[0-9A-Fa-f:.]+\\])";

    /**
     * The rule of {@code repoUrl} (a regex of the common dialect of Java and ECMAScript:
     * the OpenAPI document carries it). An https URL has no user part at all: a token
     * passed as the user name ({@code https://ghp_…@github.com/…}) would be shown to
     * every viewer and left in the clone's remote URL for the agent to read; the server's
     * {@code collab.workspace.git.https-username} and {@code https-token} hold them. An
     * ssh URL may name its user ({@code git@…}), never a password.
     */
    static final String PATTERN = "^(https://" + HOST + "(:[0-9]{1,5})?(/" + VISIBLE + "*)?|ssh://([A-Za-z0-9._~-]+@)?"
            + HOST + "(:[0-9]{1,5})?/" + VISIBLE + "*|[A-Za-z0-9_][A-Za-z0-9._-]*@" + HOST + ":" + VISIBLE + "+|file://"
            + VISIBLE + "+)$";

    static final String ALLOWED = "must be an https://… URL without a user or password, an ssh://… URL or "
            + "user@host:path, without a password (the server's configuration holds the credentials)";

    static final String FILE_NOT_ALLOWED = ALLOWED + "; file:// repositories are not allowed on this server";

    private RepositoryUrls() {
    }

    static boolean isFile(String url) {
        return url.startsWith("file:");
    }

}
