package dev.collab.support;

/**
 * Property sets that several test classes share, so that they share one cached server
 * context (the context cache's key holds a class's {@code @TestPropertySource} properties
 * in order: a class differing by one value, even a redundant one, boots a server of its
 * own, about 10 s of CI). Use them in this order: {@code properties = { LONG_RUNS,
 * SMALL_REPLAY }}.
 */
public final class TestContexts {

    /**
     * Runs stay in progress for as long as a test needs them (the tests' default is 4 s):
     * until their agent ends them, or a test interrupts them.
     */
    public static final String LONG_RUNS = "collab.runner.timeout=10m";

    /** A small max-replay: a reconnect that missed more than 20 events gets a gap. */
    public static final String SMALL_REPLAY = "collab.stream.max-replay=20";

    /** The claude-code protocol (with {@link #FAKE_CLAUDE_CODE}). */
    public static final String CLAUDE_CODE = "collab.runner.protocol=claude-code";

    /** The fake Claude Code as the agent ({@link FakeAgents}). */
    public static final String FAKE_CLAUDE_CODE = "collab.runner.command=" + FakeAgents.CLAUDE_CODE;

    private TestContexts() {
    }

}
