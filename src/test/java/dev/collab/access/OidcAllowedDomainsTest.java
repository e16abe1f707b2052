package dev.collab.access;

import java.net.URI;

import dev.collab.support.IntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code collab.auth.oidc.allowed-domains}: only identities with a verified email in one
 * of the domains log in; nobody else gets a user (review 13b-oidc #5).
 */
@IntegrationTest
class OidcAllowedDomainsTest {

    @DynamicPropertySource
    static void provider(DynamicPropertyRegistry registry) {
        registry.add("collab.auth.oidc.issuer-uri", OidcTestProvider::issuer);
        registry.add("collab.auth.oidc.client-id", () -> OidcTestProvider.CLIENT_ID);
        registry.add("collab.auth.oidc.client-secret", () -> OidcTestProvider.CLIENT_SECRET);
        registry.add("collab.auth.oidc.allowed-domains", () -> "team.example,Other.Example");
    }

    @LocalServerPort
    int port;

    @Autowired
    JdbcClient jdbc;

    @Test
    void onlyAVerifiedEmailInAnAllowedDomainLogsIn() throws Exception {
        String server = "http://127.0.0.1:" + port;
        String suffix = Long.toString(System.nanoTime(), 36);

        OidcLoginTest.provides("in" + suffix, "in" + suffix, "In", "in" + suffix + "@TEAM.example", true);
        OidcLoginTest.Browser member = new OidcLoginTest.Browser();
        assertThat(member.logIn(server, "", "in" + suffix).landed().getPath()).isEqualTo("/");
        assertThat(member.get(URI.create(server + "/api/me")).statusCode()).isEqualTo(200);

        OidcLoginTest.provides("other" + suffix, "other" + suffix, "Other", "other" + suffix + "@other.example", true);
        assertThat(new OidcLoginTest.Browser().logIn(server, "", "other" + suffix).landed().getPath()).isEqualTo("/");

        // Another domain, a subdomain, an unverified email in the domain, no email:
        // refused,
        // and no user created.
        record Case(String username, String email, boolean verified) {
        }
        for (Case refused : new Case[] { new Case("out" + suffix, "out" + suffix + "@elsewhere.example", true),
                new Case("sub" + suffix, "sub" + suffix + "@sub.team.example", true),
                new Case("unverified" + suffix, "unverified" + suffix + "@team.example", false),
                new Case("trick" + suffix, "trick" + suffix + "@team.example@elsewhere.example", true) }) {
            OidcLoginTest.provides(refused.username(), refused.username(), "Refused", refused.email(),
                    refused.verified());
            OidcLoginTest.Browser browser = new OidcLoginTest.Browser();
            OidcLoginTest.Flow flow = browser.logIn(server, "", refused.username());
            assertThat(flow.landed().getPath()).as(refused.email()).isEqualTo("/login");
            assertThat(flow.landed().getQuery()).isEqualTo("error=oidc");
            assertThat(browser.get(URI.create(server + "/api/me")).statusCode()).isEqualTo(401);
            assertThat(jdbc.sql("select count(*) from users where oidc_subject = :subject")
                .param("subject", refused.username())
                .query(Integer.class)
                .single()).isZero();
        }
        assertThat(jdbc.sql("""
                select count(*) from audit_log
                where action = 'login.oidc.failed' and details ->> 'reason' = 'domain_not_allowed'
                """).query(Integer.class).single()).isGreaterThanOrEqualTo(4);
    }

}
