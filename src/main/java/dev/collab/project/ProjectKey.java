package dev.collab.project;

import java.util.regex.Pattern;

/** The rule for project keys; checked before any query is made with one. */
public final class ProjectKey {

    /**
     * The rule as a regular expression (also the OpenAPI document's pattern for
     * {@code {key}}).
     */
    public static final String PATTERN = "^[a-z0-9][a-z0-9._-]{0,63}$";

    private static final Pattern RULE = Pattern.compile(PATTERN);

    private ProjectKey() {
    }

    /**
     * @throws InvalidProjectKeyException when the key breaks the rule
     */
    public static String require(String key) {
        if (key == null || !RULE.matcher(key).matches()) {
            throw new InvalidProjectKeyException();
        }
        return key;
    }

}
