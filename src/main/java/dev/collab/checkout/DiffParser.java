package dev.collab.checkout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

/**
 * Reads git's output for a diff: {@code --raw --numstat -z} (which files changed and how
 * much) and {@code --patch} (their hunks), into {@link Diff.ChangedFile}s, within the
 * limits.
 */
final class DiffParser {

    /** A hunk line longer than this is cut (and its file marked truncated). */
    static final int MAX_LINE_CHARS = 2000;

    /** Bytes of one patch line kept while reading (the rest is skipped). */
    private static final int MAX_LINE_BYTES = 4 * MAX_LINE_CHARS;

    private static final Pattern HUNK = Pattern.compile("^@@ -(\\d+)(?:,(\\d+))? \\+(\\d+)(?:,(\\d+))? @@.*");

    private DiffParser() {
    }

    /** A changed file as it is being read. */
    static final class FileBuilder {

        final String path;

        final @Nullable String oldPath;

        final String status;

        boolean binary;

        int additions;

        int deletions;

        boolean truncated;

        final List<Diff.DiffHunk> hunks = new ArrayList<>();

        FileBuilder(String path, @Nullable String oldPath, String status) {
            this.path = path;
            this.oldPath = oldPath;
            this.status = status;
        }

        Diff.ChangedFile build() {
            return new Diff.ChangedFile(path, oldPath, status, binary, additions, deletions, truncated,
                    List.copyOf(hunks));
        }

    }

    /**
     * The entries of {@code git diff --raw --numstat -z}: raw entries first, then as many
     * numstat entries in the same order.
     */
    static List<FileBuilder> parseRawAndNumstat(String output) {
        String[] tokens = output.split("\0", -1);
        List<FileBuilder> files = new ArrayList<>();
        int numstat = 0;
        int i = 0;
        while (i < tokens.length) {
            String token = tokens[i++];
            if (token.isEmpty()) {
                continue;
            }
            if (token.startsWith(":")) {
                String[] fields = token.split(" ");
                char letter = fields[fields.length - 1].charAt(0);
                String status = switch (letter) {
                    case 'A' -> "added";
                    case 'D' -> "deleted";
                    case 'R' -> "renamed";
                    case 'C' -> "copied";
                    case 'T' -> "type-changed";
                    default -> "modified";
                };
                if (letter == 'R' || letter == 'C') {
                    String from = tokens[i++];
                    String to = tokens[i++];
                    files.add(new FileBuilder(to, from, status));
                }
                else {
                    files.add(new FileBuilder(tokens[i++], null, status));
                }
            }
            else {
                String[] counts = token.split("\t", 3);
                if (counts.length == 3 && counts[2].isEmpty()) {
                    i += 2; // a rename's or copy's two paths
                }
                if (numstat < files.size() && counts.length >= 2) {
                    FileBuilder file = files.get(numstat);
                    if (counts[0].equals("-")) {
                        file.binary = true;
                    }
                    else {
                        file.additions = parseInt(counts[0]);
                        file.deletions = parseInt(counts[1]);
                    }
                }
                numstat++;
            }
        }
        return files;
    }

    private static int parseInt(String text) {
        try {
            return Integer.parseInt(text);
        }
        catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * Reads {@code git diff --patch} into the hunks of the files listed (by their new
     * path), within {@code maxLines} lines in all; returns true when it stopped early
     * (the limit), leaving the rest of the stream unread.
     */
    static boolean parsePatch(InputStream in, Map<String, FileBuilder> byPath, int maxLines) throws IOException {
        LineReader reader = new LineReader(in);
        int budget = maxLines;
        FileBuilder file = null;
        Diff.DiffHunk hunk = null;
        List<String> lines = new ArrayList<>();
        int oldLeft = 0;
        int newLeft = 0;
        String header = null;
        Map<String, Object> block = new LinkedHashMap<>();
        String line;
        while ((line = reader.next()) != null) {
            if (hunk != null && (oldLeft > 0 || newLeft > 0 || line.startsWith("\\"))) {
                char kind = line.isEmpty() ? ' ' : line.charAt(0);
                if (kind == '\\') {
                    // "\ No newline at end of file": belongs to the line before
                }
                else if (kind == '+') {
                    newLeft--;
                }
                else if (kind == '-') {
                    oldLeft--;
                }
                else {
                    oldLeft--;
                    newLeft--;
                }
                if (file != null) {
                    if (budget <= 0) {
                        file.truncated = true;
                        return true;
                    }
                    budget--;
                    if (line.length() > MAX_LINE_CHARS || reader.cut) {
                        line = line.substring(0, Math.min(line.length(), MAX_LINE_CHARS));
                        file.truncated = true;
                    }
                    lines.add(line.isEmpty() ? " " : line);
                }
                continue;
            }
            if (line.startsWith("diff --git ")) {
                header = line;
                block.clear();
                file = null;
                hunk = null;
                continue;
            }
            if (line.startsWith("@@ ")) {
                if (file == null && header != null) {
                    file = byPath.get(newPathOf(header, block));
                }
                Matcher m = HUNK.matcher(line);
                if (!m.matches()) {
                    hunk = null;
                    continue;
                }
                int oldStart = Integer.parseInt(m.group(1));
                int oldLines = m.group(2) == null ? 1 : Integer.parseInt(m.group(2));
                int newStart = Integer.parseInt(m.group(3));
                int newLines = m.group(4) == null ? 1 : Integer.parseInt(m.group(4));
                oldLeft = oldLines;
                newLeft = newLines;
                lines = new ArrayList<>();
                String shown = line.length() > MAX_LINE_CHARS ? line.substring(0, MAX_LINE_CHARS) : line;
                hunk = new Diff.DiffHunk(shown, oldStart, oldLines, newStart, newLines, lines);
                if (file != null) {
                    if (budget <= 0) {
                        file.truncated = true;
                        return true;
                    }
                    file.hunks.add(hunk);
                }
                continue;
            }
            hunk = null;
            if (line.startsWith("rename to ") || line.startsWith("copy to ")) {
                block.put("to", unquote(line.substring(line.indexOf(" to ") + 4)));
            }
            else if (line.startsWith("+++ ")) {
                String target = withoutTab(line.substring(4));
                if (!target.equals("/dev/null")) {
                    block.put("to", stripPrefix(unquote(target)));
                }
            }
            else if (line.startsWith("--- ")) {
                String source = withoutTab(line.substring(4));
                if (!source.equals("/dev/null")) {
                    block.put("from", stripPrefix(unquote(source)));
                }
            }
        }
        return false;
    }

    /** Git ends a ---/+++ path that holds a space with a tab (as GNU diff does). */
    private static String withoutTab(String path) {
        return path.endsWith("\t") ? path.substring(0, path.length() - 1) : path;
    }

    /** The block's new path (its old one for a deletion). */
    private static String newPathOf(String header, Map<String, Object> block) {
        Object to = block.get("to");
        if (to != null) {
            return (String) to;
        }
        Object from = block.get("from");
        if (from != null) {
            return (String) from;
        }
        return pathOfHeader(header);
    }

    /**
     * The path of a {@code diff --git a/P b/P} line whose two paths are the same (a
     * rename or copy says its paths in lines of their own).
     */
    static String pathOfHeader(String header) {
        String rest = header.substring("diff --git ".length());
        if (rest.startsWith("\"")) {
            int end = closingQuote(rest);
            return stripPrefix(unquote(rest.substring(0, end + 1)));
        }
        int length = (rest.length() - 5) / 2;
        if (length <= 0) {
            return rest;
        }
        return rest.substring(2, 2 + length);
    }

    private static int closingQuote(String text) {
        for (int i = 1; i < text.length(); i++) {
            if (text.charAt(i) == '\\') {
                i++;
            }
            else if (text.charAt(i) == '"') {
                return i;
            }
        }
        return text.length() - 1;
    }

    private static String stripPrefix(String path) {
        return path.startsWith("a/") || path.startsWith("b/") ? path.substring(2) : path;
    }

    /** Git's C-style quoting of unusual paths ({@code "caf\303\251"}), undone. */
    static String unquote(String text) {
        if (text.length() < 2 || !text.startsWith("\"") || !text.endsWith("\"")) {
            return text;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 1; i < text.length() - 1; i++) {
            char c = text.charAt(i);
            if (c != '\\' || i + 1 >= text.length() - 1) {
                bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
                continue;
            }
            char next = text.charAt(++i);
            switch (next) {
                case 'n' -> bytes.write('\n');
                case 't' -> bytes.write('\t');
                case 'r' -> bytes.write('\r');
                case 'a' -> bytes.write(7);
                case 'b' -> bytes.write('\b');
                case 'f' -> bytes.write('\f');
                case 'v' -> bytes.write(11);
                case '0', '1', '2', '3' -> {
                    int end = Math.min(i + 3, text.length() - 1);
                    bytes.write(Integer.parseInt(text.substring(i, end), 8));
                    i = end - 1;
                }
                default -> bytes.write(next);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /**
     * Lines of a stream, each at most {@link #MAX_LINE_BYTES} bytes kept (the rest
     * skipped, {@link #cut} set), decoded as UTF-8 (malformed bytes replaced).
     */
    static final class LineReader {

        private final InputStream in;

        private final byte[] buffer = new byte[8192];

        private int position;

        private int limit;

        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        boolean cut;

        LineReader(InputStream in) {
            this.in = in;
        }

        @Nullable String next() throws IOException {
            line.reset();
            cut = false;
            boolean any = false;
            while (true) {
                if (position == limit) {
                    limit = in.read(buffer);
                    position = 0;
                    if (limit <= 0) {
                        limit = 0;
                        return any ? line.toString(StandardCharsets.UTF_8) : null;
                    }
                }
                any = true;
                int start = position;
                while (position < limit && buffer[position] != '\n') {
                    position++;
                }
                int length = Math.min(position - start, Math.max(0, MAX_LINE_BYTES - line.size()));
                if (length < position - start) {
                    cut = true;
                }
                line.write(buffer, start, length);
                if (position < limit) {
                    position++; // the newline
                    return line.toString(StandardCharsets.UTF_8);
                }
            }
        }

    }

}
