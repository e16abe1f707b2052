package dev.collab.run.opencode;

import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * Server-sent events, line by line (the WHATWG event stream format, the part opencode
 * uses): {@code data:} lines are joined with line breaks, {@code event:} names the type,
 * a blank line ends an event, lines starting with a colon are comments. Lines come from
 * {@link LineReader}, which already splits at CR, LF and CRLF and cuts endless lines. An
 * event whose data grows past {@code maxDataChars} is cut there and marked, so that a
 * runaway stream cannot take the server's memory.
 */
final class SseParser {

    private final int maxDataChars;

    private final StringBuilder data = new StringBuilder();

    private @Nullable String type;

    private boolean hasData;

    private boolean truncated;

    SseParser(int maxDataChars) {
        this.maxDataChars = maxDataChars;
    }

    /**
     * One line of the stream, without its line break; the event it completes, if any.
     */
    Optional<SseEvent> line(String line) {
        if (line.isEmpty()) {
            return dispatch();
        }
        if (line.startsWith(":")) {
            return Optional.empty();
        }
        int colon = line.indexOf(':');
        String field = colon < 0 ? line : line.substring(0, colon);
        String value = colon < 0 ? "" : line.substring(colon + 1);
        if (value.startsWith(" ")) {
            value = value.substring(1);
        }
        switch (field) {
            case "data" -> appendData(value);
            case "event" -> this.type = value;
            default -> {
                // id, retry and unknown fields: nothing the driver needs.
            }
        }
        return Optional.empty();
    }

    /** The end of the stream: an event not ended by a blank line is discarded (spec). */
    void end() {
        reset();
    }

    private void appendData(String value) {
        if (this.hasData) {
            append("\n");
        }
        this.hasData = true;
        append(value);
    }

    private void append(String text) {
        int room = this.maxDataChars - this.data.length();
        if (text.length() > room) {
            this.data.append(text, 0, Math.max(room, 0));
            this.truncated = true;
        }
        else {
            this.data.append(text);
        }
    }

    private Optional<SseEvent> dispatch() {
        if (!this.hasData) {
            reset();
            return Optional.empty();
        }
        SseEvent event = new SseEvent(this.type == null || this.type.isEmpty() ? "message" : this.type,
                this.data.toString(), this.truncated);
        reset();
        return Optional.of(event);
    }

    private void reset() {
        this.data.setLength(0);
        this.type = null;
        this.hasData = false;
        this.truncated = false;
    }

    /**
     * One event of the stream.
     *
     * @param type the {@code event:} field, {@code message} when absent
     * @param data its data lines joined with line breaks
     * @param truncated its data was longer than the parser keeps, and is cut
     */
    record SseEvent(String type, String data, boolean truncated) {
    }

}
