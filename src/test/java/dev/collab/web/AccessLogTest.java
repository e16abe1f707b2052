package dev.collab.web;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What of a path the access log may show. */
class AccessLogTest {

    @Test
    void pathParametersStayOutOfTheLogLikeTheQueryString() {
        assertThat(AccessLog.withoutPathParameters("/api/projects/x;token=SECRET/sessions"))
            .isEqualTo("/api/projects/x/sessions");
        assertThat(AccessLog.withoutPathParameters("/a;jsessionid=1;b=2/c;d")).isEqualTo("/a/c");
        assertThat(AccessLog.withoutPathParameters("/api/sessions")).isEqualTo("/api/sessions");
        assertThat(AccessLog.withoutPathParameters(null)).isNull();
    }

}
