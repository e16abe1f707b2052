package dev.collab.web;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's last-resort error page, for requests it rejects before the application sees them (a
 * malformed percent-escape, an ambiguous encoded slash, oversized headers, a broken request
 * line): problem+json like every other error, instead of Jetty's HTML page.
 */
class ProblemErrorHandler extends ErrorHandler {

    private static final String PROBLEM_JSON = "application/problem+json";

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
            Callback callback) {
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, PROBLEM_JSON);
        response.write(true, ByteBuffer.wrap(body(code).getBytes(StandardCharsets.UTF_8)), callback);
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(new HttpField(HttpHeader.CONTENT_TYPE, PROBLEM_JSON));
        return ByteBuffer.wrap(body(status).getBytes(StandardCharsets.UTF_8));
    }

    static String body(int status) {
        ProblemCode code = ProblemCode.forStatus(status);
        String detail = switch (status) {
            case 400 -> "The request line, path or headers are malformed.";
            case 414 -> "The request URI is too long.";
            case 431 -> "The request headers are too large.";
            default -> code.title() + ".";
        };
        return "{\"type\":\"/problems/" + code.slug() + "\",\"title\":\"" + code.title() + "\",\"status\":" + status
                + ",\"detail\":\"" + detail + "\",\"code\":\"" + code.slug() + "\"}";
    }
}
