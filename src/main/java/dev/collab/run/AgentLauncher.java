package dev.collab.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.collab.checkout.Checkouts;
import dev.collab.workspace.Workspaces;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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

    private static final Logger log = LoggerFactory.getLogger(AgentLauncher.class);

    private final AgentCommand command;

    private final Checkouts checkouts;

    private final Workspaces workspaces;

    private final RunnerProperties properties;

    AgentLauncher(AgentCommand command, Workspaces workspaces, RunnerProperties properties, Checkouts checkouts) {
        this.command = command;
        this.checkouts = checkouts;
        this.workspaces = workspaces;
        this.properties = properties;
    }

    /** The session's workspace, created if need be: the agent's working directory. */
    Path workspace(UUID sessionId) {
        return workspaces.create(sessionId);
    }

    /**
     * Issue 15 (checkout module): the first step of a run, before the agent starts. The
     * project's repository is cloned into the workspace unless it is there already.
     * @param stopped true once the run is being stopped (the clone is killed)
     * @return null when the agent may start (or the run was stopped meanwhile, which the
     * caller sees), else how the run ends ({@code workspace-failed})
     */
    Runs.@Nullable Outcome prepareWorkspace(UUID sessionId, UUID runId, java.util.function.BooleanSupplier stopped) {
        Checkouts.Preparation preparation;
        try {
            preparation = checkouts.prepare(sessionId, runId, stopped);
        }
        catch (RuntimeException e) {
            log.warn("Run {}: preparing the workspace failed: {}", runId, e.toString());
            return new Runs.Outcome("failed", null, "workspace-failed",
                    "The workspace could not be prepared (details in the server log).");
        }
        return preparation instanceof Checkouts.Preparation.Failed failed
                ? new Runs.Outcome("failed", null, "workspace-failed", failed.message()) : null;
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
