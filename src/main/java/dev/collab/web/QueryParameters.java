package dev.collab.web;

import org.jspecify.annotations.Nullable;

/**
 * Parsing of the numeric query parameters the API shares, with the same problem for every
 * bad value. Only ASCII digits count: no sign, no spaces (a {@code +} in a query is a
 * space), no other scripts' digits, which {@link Integer#parseInt} would take.
 *
 * <p>
 * Why not {@code @RequestParam Integer limit} with {@code @Min}/{@code @Max} (checked for
 * issue 12, Spring Framework 7.0): Spring's String-to-number conversion trims and
 * decodes, so it reads {@code +5}, {@code " 5"}, {@code "5 "}, {@code 0x5}, Arabic-Indic
 * {@code ٥} and fullwidth {@code ５} as 5, and of a repeated parameter
 * ({@code limit=5&limit=6}) it takes the first; the API answers all of these with 400
 * {@code validation-failed} (HostileInputTest). A converter strict enough would be this
 * class again, and a failed conversion and a failed {@code @Min} would answer the same
 * bad value with two different details, where the API has one per field.
 */
public final class QueryParameters {

    private static final java.util.regex.Pattern DIGITS = java.util.regex.Pattern.compile("[0-9]{1,18}");

    private QueryParameters() {
    }

    /**
     * A page size.
     * @throws ApiException {@code validation-failed} unless a whole number within 1..max
     */
    public static int limit(@Nullable String value, int defaultLimit, int max) {
        if (value == null || value.isEmpty()) {
            return defaultLimit;
        }
        if (DIGITS.matcher(value).matches()) {
            long limit = Long.parseLong(value);
            if (limit >= 1 && limit <= max) {
                return (int) limit;
            }
        }
        throw ApiException.invalid("limit", "must be a whole number from 1 to " + max);
    }

    /**
     * A position in a session's event log.
     * @throws ApiException {@code validation-failed} unless a whole number of 0 or more
     */
    public static long seq(String field, @Nullable String value) {
        if (value == null || value.isEmpty()) {
            return 0;
        }
        if (DIGITS.matcher(value).matches()) {
            return Long.parseLong(value);
        }
        throw ApiException.invalid(field, "must be a whole number, 0 or more");
    }

}
