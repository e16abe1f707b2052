package dev.collab.run;

import java.nio.file.Path;

import dev.collab.support.FakeAgents;

/**
 * Where the tests' fake Claude Code is (src/test/resources/agents/claude-code) and the
 * command that runs it with the JDK running the tests (compiled once per test JVM:
 * {@link FakeAgents}).
 */
public final class FakeClaude {

    private FakeClaude() {
    }

    public static Path directory() {
        return FakeAgents.resourceDirectory("agents/claude-code");
    }

    /** collab.runner.command's value (a comma-separated list). */
    public static String command() {
        return FakeAgents.claudeCodeCommand();
    }

}
