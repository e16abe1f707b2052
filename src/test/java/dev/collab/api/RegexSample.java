package dev.collab.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Generates a string that matches a regular expression of the small subset the OpenAPI
 * document uses in its {@code pattern}s: anchors, literals, escapes
 * ({@code \S \d \w \s \. \xHH}), classes with ranges, groups with alternation, and the
 * quantifiers {@code ? * + {n} {m,n}}. Unbounded repetition is capped, so samples stay
 * short.
 */
final class RegexSample {

    private static final int UNBOUNDED_CAP = 12;

    private final String regex;

    private final Random random;

    private int at;

    private RegexSample(String regex, Random random) {
        this.regex = regex;
        this.random = random;
    }

    /**
     * A sample of {@code regex}; {@link IllegalArgumentException} for a construct outside
     * the subset.
     */
    static String sample(String regex, Random random) {
        RegexSample sampler = new RegexSample(regex, random);
        StringBuilder out = new StringBuilder();
        sampler.alternation(out);
        if (sampler.at != regex.length()) {
            throw new IllegalArgumentException("unsupported at " + sampler.at + ": " + regex);
        }
        return out.toString();
    }

    private void alternation(StringBuilder out) {
        List<StringBuilder> branches = new ArrayList<>();
        // Generate every branch (to consume the text), keep one at random.
        while (true) {
            StringBuilder branch = new StringBuilder();
            sequence(branch);
            branches.add(branch);
            if (at < regex.length() && regex.charAt(at) == '|') {
                at++;
                continue;
            }
            break;
        }
        out.append(branches.get(random.nextInt(branches.size())));
    }

    private void sequence(StringBuilder out) {
        while (at < regex.length()) {
            char c = regex.charAt(at);
            if (c == '|' || c == ')') {
                return;
            }
            if (c == '^' || c == '$') {
                at++;
                continue;
            }
            int start = at;
            atom(new StringBuilder()); // parse once to find where the atom ends and its
                                       // quantifier starts
            int[] range = quantifier();
            int times = range[0] + (range[1] > range[0] ? random.nextInt(range[1] - range[0] + 1) : 0);
            int after = at;
            for (int i = 0; i < times; i++) {
                at = start;
                atom(out);
            }
            at = after;
        }
    }

    private int[] quantifier() {
        if (at >= regex.length()) {
            return new int[] { 1, 1 };
        }
        char c = regex.charAt(at);
        switch (c) {
            case '?' -> {
                at++;
                return new int[] { 0, 1 };
            }
            case '*' -> {
                at++;
                return new int[] { 0, UNBOUNDED_CAP };
            }
            case '+' -> {
                at++;
                return new int[] { 1, UNBOUNDED_CAP };
            }
            case '{' -> {
                int close = regex.indexOf('}', at);
                String[] bounds = regex.substring(at + 1, close).split(",", -1);
                at = close + 1;
                int min = Integer.parseInt(bounds[0]);
                int max = bounds.length == 1 ? min
                        : bounds[1].isEmpty() ? min + UNBOUNDED_CAP : Integer.parseInt(bounds[1]);
                return new int[] { min, max };
            }
            default -> {
                return new int[] { 1, 1 };
            }
        }
    }

    private void atom(StringBuilder out) {
        char c = regex.charAt(at);
        switch (c) {
            case '(' -> {
                at++;
                if (regex.startsWith("?:", at)) {
                    at += 2;
                }
                alternation(out);
                expect(')');
            }
            case '[' -> characterClass(out);
            case '\\' -> out.appendCodePoint(escape(true));
            case '.' -> {
                at++;
                out.append((char) (0x21 + random.nextInt(0x5E)));
            }
            default -> {
                at++;
                out.append(c);
            }
        }
    }

    private void characterClass(StringBuilder out) {
        expect('[');
        boolean negated = regex.charAt(at) == '^';
        if (negated) {
            at++;
        }
        List<int[]> ranges = new ArrayList<>();
        while (regex.charAt(at) != ']') {
            int low;
            if (regex.charAt(at) == '\\') {
                int[] shorthand = shorthandRange();
                if (shorthand != null) {
                    ranges.add(shorthand);
                    continue;
                }
                low = escape(false);
            }
            else {
                low = regex.charAt(at++);
            }
            int high = low;
            if (regex.charAt(at) == '-' && regex.charAt(at + 1) != ']') {
                at++;
                high = regex.charAt(at) == '\\' ? escape(false) : regex.charAt(at++);
            }
            ranges.add(new int[] { low, high });
        }
        expect(']');
        if (negated) {
            // A printable ASCII character outside every range (a repository URL's path
            // excludes only spaces and controls).
            for (int tries = 0; tries < 1000; tries++) {
                int candidate = 0x21 + random.nextInt(0x5E);
                if (ranges.stream().noneMatch(r -> candidate >= r[0] && candidate <= r[1])) {
                    out.appendCodePoint(candidate);
                    return;
                }
            }
            throw new IllegalArgumentException("a negated class without a printable ASCII character: " + regex);
        }
        int[] range = ranges.get(random.nextInt(ranges.size()));
        out.appendCodePoint(range[0] + random.nextInt(range[1] - range[0] + 1));
    }

    /**
     * {@code \d \w \S} inside a class, as one range (a subset for \w and \S is enough to
     * match).
     */
    private int[] shorthandRange() {
        char kind = regex.charAt(at + 1);
        int[] range = switch (kind) {
            case 'd' -> new int[] { '0', '9' };
            case 'w' -> new int[] { 'a', 'z' };
            case 'S' -> new int[] { 0x21, 0x7E };
            default -> null;
        };
        if (range != null) {
            at += 2;
        }
        return range;
    }

    private int escape(boolean outsideClass) {
        expect('\\');
        char kind = regex.charAt(at++);
        return switch (kind) {
            case 'd' -> '0' + random.nextInt(10);
            case 'w' -> 'a' + random.nextInt(26);
            case 'S' -> 0x21 + random.nextInt(0x5E);
            case 's' -> ' ';
            case 'x' -> {
                int value = Integer.parseInt(regex.substring(at, at + 2), 16);
                at += 2;
                yield value;
            }
            case 'u' -> {
                int value = Integer.parseInt(regex.substring(at, at + 4), 16);
                at += 4;
                yield value;
            }
            default -> kind;
        };
    }

    private void expect(char c) {
        if (at >= regex.length() || regex.charAt(at) != c) {
            throw new IllegalArgumentException("expected '" + c + "' at " + at + ": " + regex);
        }
        at++;
    }

}
