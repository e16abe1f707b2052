package dev.collab.web;

import org.jspecify.annotations.Nullable;

/**
 * The rules every client-supplied string shares (docs/api.md, "Conventions"): it is valid
 * Unicode without U+0000 (PostgreSQL cannot store it, and a lone surrogate would be
 * stored as {@code ?}, so two different strings would compare equal), its length is
 * counted in characters (code points, as the contract says, not UTF-16 units), and
 * "blank" includes Unicode spaces and invisible format characters.
 */
public final class Text {

    private Text() {
    }

    /** Why {@code value} is not acceptable client text, or null when it is. */
    public static @Nullable String problem(String value) {
        if (value == null) {
            return null;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\u0000') {
                return "must not contain U+0000";
            }
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return "must be valid Unicode (it has a lone surrogate)";
            }
            if (Character.isLowSurrogate(c)) {
                return "must be valid Unicode (it has a lone surrogate)";
            }
        }
        return null;
    }

    /** The number of characters (code points). */
    public static int length(CharSequence value) {
        return Character.codePointCount(value, 0, value.length());
    }

    /**
     * True when nothing visible is left: every code point is whitespace, a space
     * separator (NBSP, U+3000…), a control or a format character (U+200B, U+2060,
     * U+FEFF…).
     */
    public static boolean isBlank(CharSequence value) {
        return value.codePoints().allMatch(Text::invisible);
    }

    private static boolean invisible(int codePoint) {
        if (Character.isWhitespace(codePoint) || Character.isSpaceChar(codePoint)) {
            return true;
        }
        int type = Character.getType(codePoint);
        return type == Character.FORMAT || type == Character.CONTROL;
    }

}
