package dev.collab.access;

import java.io.IOException;

import dev.collab.web.ApiException;
import dev.collab.web.FilterRejection;
import dev.collab.web.ProblemCode;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.access.AccessDeniedHandler;
import org.springframework.security.web.csrf.CsrfException;

/**
 * The security chain's failures as the contract's problems, never Spring's default pages:
 * {@code 401 unauthenticated} with {@code WWW-Authenticate: Bearer},
 * {@code 403 csrf-failed} for a missing or wrong XSRF token, {@code 403 forbidden}
 * otherwise. Expected answers to the client's doing: nothing is logged beyond the
 * access-log line.
 */
final class SecurityProblems implements AuthenticationEntryPoint, AccessDeniedHandler {

    @Override
    public void commence(HttpServletRequest request, HttpServletResponse response, AuthenticationException failure)
            throws IOException {
        response.setHeader("WWW-Authenticate", "Bearer");
        FilterRejection.reject(request, response,
                new ApiException(ProblemCode.UNAUTHENTICATED,
                        "Log in (POST /api/auth/login) or send Authorization: Bearer with a personal access token; "
                                + "an expired or revoked token or a disabled user is refused."));
    }

    @Override
    public void handle(HttpServletRequest request, HttpServletResponse response, AccessDeniedException denied)
            throws IOException {
        if (denied instanceof CsrfException) {
            csrfFailed(request, response, "A write with the session cookie needs the X-XSRF-TOKEN header, "
                    + "equal to the XSRF-TOKEN cookie.");
            return;
        }
        FilterRejection.reject(request, response,
                new ApiException(ProblemCode.FORBIDDEN, "Your account may not do this."));
    }

    static void csrfFailed(HttpServletRequest request, HttpServletResponse response, String detail) throws IOException {
        FilterRejection.reject(request, response, new ApiException(ProblemCode.CSRF_FAILED, detail));
    }

}
