package dev.collab.ops;

import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The metric names a PromQL expression reads, for {@link OperatorKitMetricsTest}: a small
 * tokenizer, not a parser. It keeps the identifiers that stand where a series selector
 * stands, and the value of a {@code __name__="…"} matcher, and skips everything else:
 * function names (an identifier followed by {@code (}), aggregation operators and
 * keywords ({@code by}, {@code without}, {@code on}, {@code ignoring},
 * {@code group_left}, {@code group_right} with their label lists, {@code offset},
 * {@code bool}, {@code and}, {@code or}, {@code unless}, {@code atan2}; case-insensitive
 * as in PromQL), label names and values inside {@code {}}, strings, durations and
 * subqueries inside {@code []}, numbers, {@code #} comments, Grafana's variables
 * ({@code $instance}, {@code ${instance}}, {@code $__rate_interval}), and the names of
 * the recording rules it is given.
 * <p>
 * An expression it cannot read (an unclosed string, brace or bracket; a regular
 * expression on {@code __name__}, whose names cannot be checked) is an
 * {@link IllegalArgumentException}: a check that silently read less would pass for the
 * wrong reason. Whether the expression is valid PromQL is promtool's job
 * ({@code deploy/prometheus/check.sh}).
 */
final class PromQlNames {

    /**
     * Keywords followed by a parenthesised list of label names (optional for group_*).
     */
    private static final Set<String> LABEL_LIST_KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right");

    /**
     * Keywords that are neither functions nor metric names: binary operators, modifiers,
     * the aggregation operators (they may be followed by {@code by (…)} before their
     * parenthesis, so they are not recognised by the parenthesis alone) and the number
     * literals.
     */
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "atan2", "bool", "offset", "sum", "avg",
            "count", "min", "max", "group", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "limitk",
            "limit_ratio", "inf", "nan");

    private final String expr;

    private final Set<String> recorded;

    private final Set<String> names = new LinkedHashSet<>();

    private int at;

    private PromQlNames(String expr, Set<String> recorded) {
        this.expr = expr;
        this.recorded = recorded;
    }

    /**
     * The metric names {@code expr} reads, in order of appearance, without the names in
     * {@code recorded} (the recording rules of the rules file, which are not exported by
     * any server).
     */
    static Set<String> in(String expr, Set<String> recorded) {
        PromQlNames tokenizer = new PromQlNames(expr, recorded);
        tokenizer.read();
        return tokenizer.names;
    }

    /** The metric names {@code expr} reads. */
    static Set<String> in(String expr) {
        return in(expr, Set.of());
    }

    private void read() {
        while (at < expr.length()) {
            char c = expr.charAt(at);
            if (c == '#') {
                skipComment();
            }
            else if (c == '"' || c == '\'' || c == '`') {
                string();
            }
            else if (c == '[') {
                // A range, a subquery's range and step, or a Grafana variable in one.
                at = closing('[', ']') + 1;
            }
            else if (c == '{') {
                matchers();
            }
            else if (c == '$') {
                grafanaVariable();
            }
            else if (Character.isDigit(c) || (c == '.' && at + 1 < expr.length() && Character.isDigit(peek(1)))) {
                number();
            }
            else if (identifierStart(c)) {
                identifier();
            }
            else {
                at++; // an operator, a parenthesis, a comma, white space
            }
        }
    }

    private void identifier() {
        int start = at;
        while (at < expr.length() && identifierPart(expr.charAt(at))) {
            at++;
        }
        String word = expr.substring(start, at);
        String keyword = word.toLowerCase(Locale.ROOT);
        if (LABEL_LIST_KEYWORDS.contains(keyword)) {
            skipWhitespace();
            if (at < expr.length() && expr.charAt(at) == '(') {
                at = closing('(', ')') + 1;
            }
            return;
        }
        if (KEYWORDS.contains(keyword)) {
            return;
        }
        skipWhitespace();
        boolean call = at < expr.length() && expr.charAt(at) == '(';
        if (!call && !recorded.contains(word)) {
            names.add(word);
        }
    }

    /**
     * Label matchers: label names and values are no metric names, except the value of
     * {@code __name__="…"}.
     */
    private void matchers() {
        int end = closing('{', '}');
        at++;
        String label = null;
        String operator = "";
        while (at < end) {
            char c = expr.charAt(at);
            if (c == '"' || c == '\'' || c == '`') {
                String value = string();
                if ("__name__".equals(label)) {
                    if (!operator.equals("=")) {
                        throw new IllegalArgumentException(
                                "__name__" + operator + value + " matches names that cannot be checked: " + expr);
                    }
                    if (!recorded.contains(value)) {
                        names.add(value);
                    }
                }
                label = null;
                operator = "";
            }
            else if (identifierStart(c)) {
                int start = at;
                while (at < end && identifierPart(expr.charAt(at))) {
                    at++;
                }
                label = expr.substring(start, at);
            }
            else if (c == '=' || c == '!' || c == '~') {
                operator += c;
                at++;
            }
            else {
                at++;
            }
        }
        at = end + 1;
    }

    /** Skips a string literal and returns its content (escapes kept as written). */
    private String string() {
        int close = closingQuote(at);
        String content = expr.substring(at + 1, close);
        at = close + 1;
        return content;
    }

    /**
     * The index of the quote that closes the string opening at {@code open}: backslash
     * escapes in "…" and '…', none in `…` (raw strings).
     */
    private int closingQuote(int open) {
        char quote = expr.charAt(open);
        for (int i = open + 1; i < expr.length(); i++) {
            char c = expr.charAt(i);
            if (c == '\\' && quote != '`') {
                i++;
            }
            else if (c == quote) {
                return i;
            }
        }
        throw new IllegalArgumentException("Unclosed string at " + open + ": " + expr);
    }

    /**
     * A number, a duration (5m, 1h30m) or a hexadecimal number; a decimal one with its
     * exponent (1e-3).
     */
    private void number() {
        boolean hex = expr.startsWith("0x", at) || expr.startsWith("0X", at);
        while (at < expr.length()) {
            char c = expr.charAt(at);
            if (!hex && (c == 'e' || c == 'E') && at + 2 < expr.length() && (peek(1) == '+' || peek(1) == '-')
                    && Character.isDigit(peek(2))) {
                at += 2;
            }
            else if (Character.isLetterOrDigit(c) || c == '.' || c == '_') {
                at++;
            }
            else {
                return;
            }
        }
    }

    /** {@code $name} or {@code ${name}} ({@code ${name:format}}). */
    private void grafanaVariable() {
        at++;
        if (at < expr.length() && expr.charAt(at) == '{') {
            at = closing('{', '}') + 1;
            return;
        }
        while (at < expr.length() && (Character.isLetterOrDigit(expr.charAt(at)) || expr.charAt(at) == '_')) {
            at++;
        }
    }

    private void skipComment() {
        while (at < expr.length() && expr.charAt(at) != '\n') {
            at++;
        }
    }

    private void skipWhitespace() {
        while (at < expr.length() && Character.isWhitespace(expr.charAt(at))) {
            at++;
        }
    }

    /**
     * The index of the character that closes the one at {@code at}, skipping strings;
     * brackets of the same kind do not nest in PromQL's label lists, matchers and ranges.
     */
    private int closing(char open, char close) {
        for (int i = at + 1; i < expr.length(); i++) {
            char c = expr.charAt(i);
            if (c == '"' || c == '\'' || c == '`') {
                i = closingQuote(i);
            }
            else if (c == close) {
                return i;
            }
            else if (c == open) {
                throw new IllegalArgumentException("'" + open + "' inside '" + open + "' at " + i + ": " + expr);
            }
        }
        throw new IllegalArgumentException("Unclosed '" + open + "' at " + at + ": " + expr);
    }

    private char peek(int ahead) {
        return expr.charAt(at + ahead);
    }

    private static boolean identifierStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    }

    private static boolean identifierPart(char c) {
        return identifierStart(c) || (c >= '0' && c <= '9');
    }

}
