package dev.collab.access;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The login's return target ({@link OidcLogin#safeTarget}): only canonical paths on this
 * server, because Jetty normalises a redirect's path ({@code /.//evil.example} would
 * become {@code //evil.example}) and refuses one above the root (review 13b-oidc #1, #2).
 * The whole flow with some of these is in {@link OidcLoginTest}.
 */
class OidcSafeTargetTest {

    @ParameterizedTest
    @ValueSource(strings = { "/", "/projects/p1", "/projects/p1?x=1&y=%2F", "/a/b/", "/a.b/c..d/.e", "/~x/%20y",
            "/p?next=//evil", "/a@b:c" })
    void localPathsAreKept(String target) {
        assertThat(OidcLogin.safeTarget(target)).isEqualTo(target);
    }

    @ParameterizedTest
    @ValueSource(strings = { "", "evil", "//evil", "///evil", "/\\evil", "\\\\evil", "https://evil.example/",
            "https:evil", "%2F%2Fevil", "/%2F/evil", "/%2f%2fevil", "/%5Cevil", "/%5cevil", "/.//evil.example/x",
            "/./%2F/evil", "/%2e//x", "/%2E//x", "/%2e%2e//x", "/.%2e//x", "/..", "/../evil", "/a/..", "/a/../..//x",
            "/a/.", "/a//b", "/a/./b", "/x%0d%0aSet-Cookie:a", "/x%0aa", "/x%00", "/x%7f", "/x%", "/x%2", "/x%zz",
            "/x\ny", "/x\ry", "/x y", "/x\ty", "/\u00e9", "/x?a\\b", "/x?a b", "/x#frag", "/x?a#b", "/x\\y" })
    void anythingElseIsRefused(String target) {
        assertThat(OidcLogin.safeTarget(target)).isNull();
    }

    @org.junit.jupiter.api.Test
    void aLongTargetIsRefused() {
        assertThat(OidcLogin.safeTarget("/" + "a".repeat(2000))).isNull();
        assertThat(OidcLogin.safeTarget(null)).isNull();
    }

}
