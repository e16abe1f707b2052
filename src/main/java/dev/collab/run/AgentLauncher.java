package dev.collab.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.collab.workspace.Workspaces;
import org.springframework.stereotype.Component;

/**
 * Starts the agent process of a run: the command as a list (no shell), the session's
 * workspace as working directory, an allow-listed environment
 * ({@code collab.runner.environment}) plus {@code COLLAB_SESSION_ID} and
 * {@code COLLAB_RUN_ID}, and what the run's protocol adds (arguments, variables, the
 * agent's input).
 */
@Component
class AgentLauncher {

    private final AgentCommand command;

    private final Workspaces workspaces;

    private final RunnerProperties properties;

    AgentLauncher(AgentCommand command, Workspaces workspaces, RunnerProperties properties) {
        this.command = command;
        this.workspaces = workspaces;
        this.properties = properties;
    }

    /** The session's workspace, created if need be: the agent's working directory. */
    Path workspace(UUID sessionId) {
        return workspaces.create(sessionId);
    }

    /**
     * Starts the agent: the command with the protocol's arguments, in the workspace, with
     * the allow-listed environment and the protocol's own variables; then tells the
     * conversation, which gives the agent its input.
     */
    Process start(UUID sessionId, UUID runId, Path workspace, AgentProtocol.AgentConversation conversation)
            throws IOException {
        List<String> argv = new ArrayList<>(command.command());
        argv.addAll(conversation.arguments());
        ProcessBuilder builder = new ProcessBuilder(argv).directory(workspace.toFile());
        agentEnvironment(builder.environment(), System.getenv(), sessionId, runId);
        builder.environment().putAll(conversation.environment());
        Process process = builder.start();
        conversation.started(process);
        return process;
    }

    /**
     * The agent runs code from users: it gets the allow-listed variables of the server's
     * environment and its run's ids, never the rest (database credentials, settings).
     */
    void agentEnvironment(Map<String, String> target, Map<String, String> server, UUID sessionId, UUID runId) {
        target.clear();
        for (String name : properties.environment()) {
            String value = server.get(name);
            if (value != null) {
                target.put(name, value);
            }
        }
        target.put("COLLAB_SESSION_ID", sessionId.toString());
        target.put("COLLAB_RUN_ID", runId.toString());
    }

}
