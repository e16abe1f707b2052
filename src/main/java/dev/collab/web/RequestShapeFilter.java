package dev.collab.web;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.util.UrlPathHelper;

/**
 * Rejects requests whose shape is wrong before any endpoint (API or Actuator) reads them,
 * so every endpoint answers them alike (docs/api.md, "Conventions"):
 * <ul>
 * <li>a query string that is not percent-encoded UTF-8 (a raw non-ASCII byte, or an
 * escape that spells no UTF-8 text, or U+0000): {@code 400 malformed-request};
 * <li>a request with a body whose {@code Content-Type} is not a media type (or is a range
 * such as {@code *}{@code /*}), appears twice, or names a charset other than UTF-8 (the
 * body would be mis-decoded): {@code 400 malformed-request}; without a body there is
 * nothing to decode, so the header is left alone (probes and proxies send all sorts);
 * <li>a header that must appear once ({@code Idempotency-Key}, {@code Last-Event-ID})
 * sent twice (the servlet API would join them into {@code a,b}):
 * {@code 400 validation-failed};
 * <li>empty elements of an {@code Accept} list ({@code Accept: ,} or
 * {@code application/json,,}, which probes send) are dropped, as HTTP says a recipient
 * must ignore them (Actuator splits the header itself and failed on the empty element),
 * and so are {@code charset} parameters: every answer is UTF-8 ({@code application/json}
 * defines no charset), and with {@code charset=utf-16} the handler ran and then no
 * converter would write its answer (a 500 after a session was created);
 * <li>the error page asked for directly: {@code 404}, whatever the method (it is no
 * resource);
 * <li>{@code TRACE} is never echoed (see below).
 * </ul>
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 5)
class RequestShapeFilter extends OncePerRequestFilter {

    private static final List<String> SINGLE_VALUED = List.of("Idempotency-Key", "Last-Event-ID");

    /**
     * A {@code ;charset=…} media type parameter (token or quoted value), with the blanks
     * around it.
     */
    private static final Pattern CHARSET_PARAMETER = Pattern
        .compile("\\s*;\\s*charset\\s*=\\s*(\"[^\"]*\"|[^;,\\s]*)\\s*", Pattern.CASE_INSENSITIVE);

    private final String errorPath;

    RequestShapeFilter(@Value("${server.error.path:/error}") String errorPath) {
        this.errorPath = errorPath;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String query = request.getQueryString();
        if (query != null && !isPercentEncodedText(query)) {
            reject(request, response, new ApiException(ProblemCode.MALFORMED_REQUEST,
                    "The query string is not valid: escapes must be %XX and encode UTF-8 text without U+0000."));
            return;
        }
        boolean hasBody = hasBody(request);
        String contentTypeProblem = hasBody ? contentTypeProblem(request) : null;
        if (contentTypeProblem != null) {
            reject(request, response, new ApiException(ProblemCode.MALFORMED_REQUEST, contentTypeProblem));
            return;
        }
        for (String header : SINGLE_VALUED) {
            if (count(request, header) > 1) {
                reject(request, response, ApiException.invalid(header, "header must be sent once"));
                return;
            }
        }
        // Decoded and without ;parameters, as Spring MVC matches it (so /error;x and
        // /%65rror count too).
        String path = UrlPathHelper.defaultInstance.getPathWithinApplication(request);
        if (path.equals(errorPath) || path.startsWith(errorPath + "/")) {
            reject(request, response, ApiException.notFound("No such resource: " + request.getMethod() + " " + path));
            return;
        }
        if (!hasBody && request.getHeader(HttpHeaders.CONTENT_TYPE) != null) {
            // Hidden rather than just not checked: Spring MVC refuses to hold some values
            // (a range
            // such as */*) and would throw while reading the headers of a GET.
            request = withHeader(request, HttpHeaders.CONTENT_TYPE, List.of());
        }
        List<String> accept = normalizedAccept(request);
        if (accept != null) {
            request = withHeader(request, HttpHeaders.ACCEPT, accept);
        }
        if ("TRACE".equals(request.getMethod())) {
            // Spring MVC answers TRACE like any method it has no handler for (405 with
            // Allow, or
            // 404), but FrameworkServlet then falls back to the servlet's default TRACE,
            // which
            // echoes the request (cookies and tokens included) unless the response's type
            // is
            // message/http. Saying it is keeps the echo out; the problem body is what is
            // sent.
            chain.doFilter(request, new HttpServletResponseWrapper(response) {
                @Override
                public String getContentType() {
                    return "message/http";
                }
            });
            return;
        }
        chain.doFilter(request, response);
    }

    private static void reject(HttpServletRequest request, HttpServletResponse response, ApiException problem)
            throws IOException {
        request.setAttribute(ProblemErrorController.EXCEPTION_ATTRIBUTE, problem);
        response.sendError(problem.code().status().value());
    }

    /**
     * A body follows the head: a positive {@code Content-Length}, or any
     * {@code Transfer-Encoding}.
     */
    private static boolean hasBody(HttpServletRequest request) {
        return request.getContentLengthLong() > 0 || request.getHeader("Transfer-Encoding") != null;
    }

    /**
     * The {@code Accept} values without empty list elements (RFC 9110, 5.6.1: a recipient
     * must accept and ignore them) and without {@code charset} parameters, or null when
     * there is nothing to drop.
     */
    private static @Nullable List<String> normalizedAccept(HttpServletRequest request) {
        List<String> values = Collections.list(request.getHeaders(HttpHeaders.ACCEPT));
        if (values.stream().noneMatch(value -> hasEmptyElement(value) || CHARSET_PARAMETER.matcher(value).find())) {
            return null;
        }
        return values.stream()
            .map(value -> Arrays.stream(CHARSET_PARAMETER.matcher(value).replaceAll("").split(","))
                .map(String::trim)
                .filter(element -> !element.isEmpty())
                .collect(Collectors.joining(", ")))
            .filter(value -> !value.isEmpty())
            .toList();
    }

    /**
     * The request with {@code header} replaced by {@code values} (absent when there are
     * none).
     */
    private static HttpServletRequest withHeader(HttpServletRequest request, String header, List<String> values) {
        boolean contentType = HttpHeaders.CONTENT_TYPE.equalsIgnoreCase(header);
        return new HttpServletRequestWrapper(request) {
            @Override
            public @Nullable String getHeader(String name) {
                return header.equalsIgnoreCase(name) ? (values.isEmpty() ? null : values.getFirst())
                        : super.getHeader(name);
            }

            @Override
            public Enumeration<String> getHeaders(String name) {
                return header.equalsIgnoreCase(name) ? Collections.enumeration(values) : super.getHeaders(name);
            }

            @Override
            public Enumeration<String> getHeaderNames() {
                List<String> names = Collections.list(super.getHeaderNames());
                if (values.isEmpty()) {
                    names.removeIf(header::equalsIgnoreCase);
                }
                return Collections.enumeration(names);
            }

            @Override
            public @Nullable String getContentType() {
                return contentType ? getHeader(header) : super.getContentType();
            }

            @Override
            public @Nullable String getCharacterEncoding() {
                return contentType && values.isEmpty() ? null : super.getCharacterEncoding();
            }
        };
    }

    private static boolean hasEmptyElement(String value) {
        return Arrays.stream(value.split(",", -1)).anyMatch(String::isBlank);
    }

    private static int count(HttpServletRequest request, String header) {
        return Collections.list(request.getHeaders(header)).size();
    }

    private static @Nullable String contentTypeProblem(HttpServletRequest request) {
        int count = count(request, "Content-Type");
        if (count == 0) {
            return null;
        }
        if (count > 1) {
            return "Send one Content-Type header.";
        }
        MediaType type;
        try {
            type = MediaType.parseMediaType(request.getHeader("Content-Type"));
        }
        catch (InvalidMediaTypeException e) {
            return "The Content-Type is not a valid media type; send application/json.";
        }
        if (type.isWildcardType() || type.isWildcardSubtype()) {
            // A range like */* is for Accept: Spring MVC refuses to hold it as a
            // Content-Type (it threw, a 500).
            return "The Content-Type must name one media type, not a range; send application/json.";
        }
        String charset = type.getParameter("charset");
        if (charset == null) {
            return null;
        }
        if (charset.length() >= 2 && charset.startsWith("\"") && charset.endsWith("\"")) {
            charset = charset.substring(1, charset.length() - 1);
        }
        return charset.equalsIgnoreCase("utf-8") || charset.equalsIgnoreCase("utf8") ? null
                : "Only UTF-8 bodies are accepted; send Content-Type: application/json (UTF-8 is the default).";
    }

    /**
     * ASCII only, every escape is {@code %XX}, and the bytes they spell are UTF-8 text
     * without U+0000.
     */
    static boolean isPercentEncodedText(String query) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(query.length());
        for (int i = 0; i < query.length(); i++) {
            char c = query.charAt(i);
            if (c == '%') {
                if (i + 2 >= query.length()) {
                    return false;
                }
                int high = Character.digit(query.charAt(i + 1), 16);
                int low = Character.digit(query.charAt(i + 2), 16);
                if (high < 0 || low < 0 || query.charAt(i + 1) > 0x7F || query.charAt(i + 2) > 0x7F) {
                    return false;
                }
                bytes.write(high << 4 | low);
                i += 2;
            }
            else if (c < 0x80) {
                bytes.write(c);
            }
            else {
                // A raw non-ASCII byte: not percent-encoded, and its charset is anyone's
                // guess.
                return false;
            }
        }
        try {
            String text = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes.toByteArray()))
                .toString();
            return Text.problem(text) == null;
        }
        catch (CharacterCodingException e) {
            return false;
        }
    }

}
