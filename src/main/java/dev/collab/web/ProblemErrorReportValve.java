package dev.collab.web;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;

/**
 * Tomcat's last-resort error page, for requests it rejects before the application sees them
 * (a malformed percent-escape, an encoded slash, oversized headers): problem+json like every
 * other error, instead of Tomcat's HTML page with its version number.
 */
public class ProblemErrorReportValve extends ErrorReportValve {

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        ProblemCode code = ProblemCode.forStatus(status);
        String body = "{\"type\":\"/problems/" + code.slug() + "\",\"title\":\"" + code.title() + "\",\"status\":" + status
                + ",\"detail\":\"" + detailFor(status, code) + "\",\"code\":\"" + code.slug() + "\"}";
        try {
            response.setContentType("application/problem+json");
            response.setCharacterEncoding(StandardCharsets.UTF_8.name());
            Writer writer = response.getReporter();
            if (writer != null) {
                writer.write(body);
                response.finishResponse();
            }
        } catch (IOException | IllegalStateException e) {
            // The client is gone or the response is already closed: nothing more to tell it.
        }
    }

    private static String detailFor(int status, ProblemCode code) {
        return switch (status) {
            case 400 -> "The request line, path or headers are malformed.";
            case 414 -> "The request URI is too long.";
            case 431 -> "The request headers are too large.";
            default -> code.title() + ".";
        };
    }
}
