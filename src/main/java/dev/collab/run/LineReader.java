package dev.collab.run;

import java.io.InputStream;
import java.util.function.Consumer;

/**
 * Reads a line protocol's stdout (UTF-8, as {@link AgentOutputReader}) line by line, with
 * a bound: a line longer than {@code maxLineChars} is never held whole in memory nor
 * dropped; it goes on as raw text ({@code overflow}), the part read so far and then the
 * rest as it comes, up to its line break.
 */
final class LineReader {

    /** The longest line a line protocol parses (1 MiB of characters). */
    static final int MAX_LINE_CHARS = 1 << 20;

    /** A line handler: the line without its line break, and whether one ended it. */
    @FunctionalInterface
    interface Lines {

        void line(String line, boolean terminated);

    }

    private final int maxLineChars;

    private final Lines lines;

    private final Consumer<String> overflow;

    private final StringBuilder current = new StringBuilder();

    /** The current line went past the bound: what follows up to its break is raw. */
    private boolean overflowing;

    LineReader(int maxLineChars, Lines lines, Consumer<String> overflow) {
        this.maxLineChars = maxLineChars;
        this.lines = lines;
        this.overflow = overflow;
    }

    /** Reads {@code in} to its end; the last line may lack its line break. */
    static void readAll(InputStream in, int maxLineChars, Lines lines, Consumer<String> overflow) {
        LineReader reader = new LineReader(maxLineChars, lines, overflow);
        AgentOutputReader.readAll(in, reader::add);
        reader.end();
    }

    void add(CharSequence chars) {
        int start = 0;
        int length = chars.length();
        while (start < length) {
            int newline = indexOf(chars, '\n', start);
            int end = newline < 0 ? length : newline;
            if (overflowing) {
                overflow.accept(chars.subSequence(start, newline < 0 ? length : newline + 1).toString());
                if (newline >= 0) {
                    overflowing = false;
                }
            }
            else {
                current.append(chars, start, end);
                if (newline >= 0) {
                    String line = current.toString();
                    current.setLength(0);
                    lines.line(line, true);
                }
                else if (current.length() > maxLineChars) {
                    overflowing = true;
                    overflow.accept(current.toString());
                    current.setLength(0);
                }
            }
            start = newline < 0 ? length : newline + 1;
        }
    }

    void end() {
        if (!current.isEmpty()) {
            String line = current.toString();
            current.setLength(0);
            lines.line(line, false);
        }
    }

    private static int indexOf(CharSequence chars, char c, int from) {
        for (int i = from; i < chars.length(); i++) {
            if (chars.charAt(i) == c) {
                return i;
            }
        }
        return -1;
    }

}
