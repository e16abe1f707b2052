package dev.collab.run;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The last lines the agent wrote to stderr, for the {@code runner-failed} error: at most
 * {@value #LINES} lines and {@value #CHARS} characters. Kept as the text is read, not
 * from the log, so it is right even when the output could not be appended.
 */
final class StderrTail {

    static final int LINES = 20;
    static final int CHARS = 4_000;

    private final Deque<String> lines = new ArrayDeque<>();

    /**
     * The line being written (no newline yet), cut to its last {@value #CHARS}
     * characters.
     */
    private final StringBuilder partial = new StringBuilder();

    synchronized void add(CharSequence chars) {
        String[] pieces = chars.toString().split("\n", -1);
        for (int i = 0; i < pieces.length; i++) {
            partial.append(pieces[i]);
            if (partial.length() > CHARS) {
                partial.delete(0, partial.length() - CHARS);
            }
            boolean complete = i < pieces.length - 1; // every piece but the last ended
                                                      // with a newline
            if (complete) {
                lines.addLast(partial.toString());
                partial.setLength(0);
                while (lines.size() > LINES) {
                    lines.pollFirst();
                }
            }
        }
    }

    synchronized String text() {
        String tail = (String.join("\n", lines) + (partial.isEmpty() ? "" : "\n" + partial)).strip();
        return tail.length() > CHARS ? tail.substring(tail.length() - CHARS) : tail;
    }

}
