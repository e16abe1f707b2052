package dev.collab.run;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent's session id becomes an argument of the next run ({@code --resume <id>}):
 * only an id, never an option or something huge, is kept.
 */
class ClaudeCodeSessionIdTest {

    @Test
    void aClaudeCodeSessionIdIsKept() {
        assertThat(ClaudeCodeProtocol.isSessionId("8f1c2a4e-6b7d-4e0a-9c3b-2d5e7f9a1b3c")).isTrue();
    }

    @Test
    void anOptionOrAnythingElseTheAgentWritesIsNot() {
        assertThat(ClaudeCodeProtocol.isSessionId("--dangerously-skip-permissions")).isFalse();
        assertThat(ClaudeCodeProtocol.isSessionId("-p")).isFalse();
        assertThat(ClaudeCodeProtocol.isSessionId("a b")).isFalse();
        assertThat(ClaudeCodeProtocol.isSessionId("../../etc")).isFalse();
        assertThat(ClaudeCodeProtocol.isSessionId("x".repeat(129))).isFalse();
        assertThat(ClaudeCodeProtocol.isSessionId("")).isFalse();
    }

}
