package dev.collab.web;

/** Parsing of the numeric query parameters the API shares, with the same problem for every bad value. */
public final class QueryParameters {

    private QueryParameters() {
    }

    /**
     * A page size.
     *
     * @throws ApiException {@code validation-failed} unless a whole number within 1..max
     */
    public static int limit(String value, int defaultLimit, int max) {
        if (value == null || value.isBlank()) {
            return defaultLimit;
        }
        try {
            int limit = Integer.parseInt(value.trim());
            if (limit >= 1 && limit <= max) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw ApiException.invalid("limit", "must be a whole number from 1 to " + max);
    }

    /**
     * A position in a session's event log.
     *
     * @throws ApiException {@code validation-failed} unless a whole number of 0 or more
     */
    public static long seq(String field, String value) {
        if (value == null || value.isBlank()) {
            return 0;
        }
        try {
            long seq = Long.parseLong(value.trim());
            if (seq >= 0) {
                return seq;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw ApiException.invalid(field, "must be a whole number, 0 or more");
    }
}
