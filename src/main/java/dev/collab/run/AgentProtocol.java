package dev.collab.run;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.jspecify.annotations.Nullable;

/**
 * How the runner speaks with an agent ({@code collab.runner.protocol}, docs/runner.md
 * "Protocols"): one implementation per protocol, a Spring bean, chosen by
 * {@link #name()}. A protocol turns one run into an {@link AgentConversation}: the
 * arguments and environment it adds to the command, what it writes to the agent, and how
 * it reads the agent's stdout into {@code output} and typed events. The runner keeps the
 * rest (the process, its stderr, timeouts, stops, how the run ends), so that every
 * protocol ends runs the same way.
 * <p>
 * A line protocol ({@code claude-code}) reads stdout line by line with {@link LineReader}
 * and writes to stdin; a protocol that drives its agent another way (opencode's
 * {@code serve} over HTTP) reads its server's stdout as plain output, talks to it from
 * {@link AgentConversation#started(Process)} on a thread of its own, and ends the run
 * itself ({@link Conversation#end()}) when the agent's turn is over.
 */
interface AgentProtocol {

    /** The value of {@code collab.runner.protocol} that selects this protocol. */
    String name();

    /**
     * The command when {@code collab.runner.command} is empty; an empty list means the
     * shipped demo agent.
     */
    List<String> defaultCommand();

    /**
     * Prepares one run's conversation (before the agent starts).
     * @throws RuntimeException when it cannot be prepared (the run fails)
     */
    AgentConversation open(Conversation conversation);

    /**
     * What a protocol knows of the run it talks for.
     *
     * @param sessionId the collab session
     * @param runId the run
     * @param message the user's message of this run
     * @param workspace the session's workspace, the agent's working directory
     * @param output where what the agent says goes, in order
     * @param end ends the run on purpose, for an agent that does not exit by itself (a
     * server such as opencode's, once its turn is over): the runner stops the agent's
     * process tree as it does for an interrupt, and records the run by
     * {@link AgentConversation#failure()} ({@code succeeded} when null, {@code failed}
     * with its words otherwise, {@code exitCode} null) rather than by the exit code of
     * the process it stopped. The first stop decides: an interrupt, timeout or shutdown
     * before it is recorded as such; after it, they change nothing. Does not block.
     */
    record Conversation(UUID sessionId, UUID runId, String message, Path workspace, AgentOutput output, Runnable end) {
    }

    /**
     * Where a protocol puts what the agent says. Both go into the log in the order they
     * were given, with the guarantees of {@code output} (docs/runner.md).
     */
    interface AgentOutput {

        /** Raw text of a stream ({@code stdout}, {@code stderr}). */
        void output(String stream, CharSequence text);

        /** A typed event ({@code agent.text}, {@code tool.call}, …); runId is added. */
        void event(AgentEvent event);

        /**
         * Appends what waits now: before the protocol has something appended outside this
         * output (an approval request), so that the log keeps the agent's order. Never
         * throws: when the database is away, what waits stays for the usual retries.
         */
        void flush();

    }

    /** One run's talk with its agent. */
    interface AgentConversation {

        /** Appended to the command. */
        default List<String> arguments() {
            return List.of();
        }

        /** Added to the agent's allow-listed environment. */
        default Map<String, String> environment() {
            return Map.of();
        }

        /**
         * The agent started: gives it its input. Must not block (a write that may is done
         * on a thread of its own).
         */
        void started(Process process);

        /**
         * Reads the agent's stdout until its end (or until it is closed under the
         * reader), on the run's reader thread; never throws.
         */
        void readStdout(InputStream stdout);

        /**
         * Why the run failed although the agent exited with 0 (the agent reported an
         * error), or, for a run the protocol ended ({@link Conversation#end()}), why that
         * run failed; null when it did not.
         */
        default @Nullable String failure() {
            return null;
        }

        /**
         * The run is over (however it ended): stop waiting for anything (approvals), let
         * go of the agent's stdin.
         */
        default void close() {
        }

    }

}
