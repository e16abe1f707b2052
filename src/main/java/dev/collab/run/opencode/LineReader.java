package dev.collab.run.opencode;

import java.io.IOException;
import java.io.Reader;

import org.jspecify.annotations.Nullable;

/**
 * Lines of a stream (split at CR, LF and CRLF, like
 * {@link java.io.BufferedReader#readLine()}), each kept to at most {@code maxChars}: the
 * rest of a longer line is read and skipped, not buffered. {@code readLine} buffers a
 * whole line however long it is, so a process writing one endless line (opencode's
 * stdout, or an event's data line) could take the server's memory before any cap
 * downstream sees it.
 */
final class LineReader {

    private final Reader reader;

    private final int maxChars;

    private final char[] buffer = new char[8192];

    private int position;

    private int limit;

    private boolean afterCr;

    LineReader(Reader reader, int maxChars) {
        this.reader = reader;
        this.maxChars = maxChars;
    }

    /**
     * The next line without its break, or null at the end of the stream.
     */
    @Nullable Line next() throws IOException {
        StringBuilder line = new StringBuilder();
        long chars = 0;
        boolean any = false;
        while (true) {
            if (this.position == this.limit) {
                int n = this.reader.read(this.buffer);
                if (n < 0) {
                    return any ? new Line(line.toString(), chars > this.maxChars) : null;
                }
                this.position = 0;
                this.limit = n;
                continue;
            }
            char c = this.buffer[this.position++];
            if (this.afterCr) {
                this.afterCr = false;
                if (c == '\n') {
                    continue;
                }
            }
            if (c == '\n' || c == '\r') {
                this.afterCr = c == '\r';
                return new Line(line.toString(), chars > this.maxChars);
            }
            any = true;
            chars++;
            if (line.length() < this.maxChars) {
                line.append(c);
            }
        }
    }

    /**
     * One line.
     *
     * @param text the line, at most {@code maxChars} of it
     * @param cut the line was longer and {@code text} is its beginning
     */
    record Line(String text, boolean cut) {
    }

}
