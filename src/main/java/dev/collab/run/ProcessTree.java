package dev.collab.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Stopping an agent and everything it started, with {@link ProcessHandle} only (no shell,
 * no {@code kill} command, no process group: Java cannot start a process in a group of
 * its own). The process table is scanned when it is needed (when a run is stopped, and
 * once a second for all runs together, see {@link DescendantWatch}), never per run on the
 * output flush tick.
 */
final class ProcessTree {

    private ProcessTree() {
    }

    /**
     * Polite first (SIGTERM to the agent, then to its descendants at this moment),
     * forcibly (SIGKILL) for whatever is still alive after {@code grace}, including what
     * the agent started meanwhile and what an earlier scan saw ({@code known}:
     * descendants that may have outlived their parent, whom the agent's tree no longer
     * shows).
     */
    static void stop(ProcessHandle agent, Duration grace, Collection<ProcessHandle> known) throws InterruptedException {
        List<ProcessHandle> tree = new ArrayList<>(agent.descendants().toList());
        known.stream().filter(handle -> !tree.contains(handle)).forEach(tree::add);
        // The agent first (it may stop its own children cleanly), then whatever it
        // started.
        agent.destroy();
        tree.forEach(ProcessHandle::destroy);
        CompletableFuture<?>[] exits = Stream.concat(Stream.of(agent), tree.stream())
            .map(ProcessHandle::onExit)
            .toArray(CompletableFuture<?>[]::new);
        try {
            CompletableFuture.allOf(exits).get(grace.toMillis(), TimeUnit.MILLISECONDS);
        }
        catch (TimeoutException | ExecutionException e) {
            // Someone ignores SIGTERM (or cannot be waited for): the grace is over.
        }
        tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        agent.descendants().forEach(ProcessHandle::destroyForcibly);
        agent.destroyForcibly();
    }

    /**
     * After the agent exited: what it started and left behind (as last seen) is killed.
     */
    static void killLeftovers(Collection<ProcessHandle> known) {
        known.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    /**
     * The descendants of each of {@code agents} (by pid), from one scan of the server's
     * own descendants: one read of the process table however many runs there are.
     */
    static Map<Long, List<ProcessHandle>> descendantsOf(Set<Long> agents) {
        Map<Long, Long> parents = new HashMap<>();
        Map<Long, ProcessHandle> handles = new HashMap<>();
        ProcessHandle.current().descendants().forEach(handle -> handle.parent().ifPresent(parent -> {
            parents.put(handle.pid(), parent.pid());
            handles.put(handle.pid(), handle);
        }));
        Map<Long, List<ProcessHandle>> trees = new HashMap<>();
        handles.forEach((pid, handle) -> {
            Long up = parents.get(pid);
            while (up != null && !agents.contains(up)) {
                up = parents.get(up);
            }
            if (up != null) {
                trees.computeIfAbsent(up, agent -> new ArrayList<>()).add(handle);
            }
        });
        return trees;
    }

    /**
     * The processes that carry the run's {@code COLLAB_RUN_ID} in their environment
     * (every process the agent started inherits it), found through {@code /proc} on
     * Linux; empty elsewhere. For the moment the agent exits: its children have just been
     * reparented (to init, or to this server when it is PID 1), so the agent's tree no
     * longer shows them, but their environment still names the run. Only processes
     * started since the agent are read (one small file each, once per run).
     */
    static List<ProcessHandle> startedBy(UUID runId, long agentPid, Instant agentStarted) {
        if (!Files.isReadable(Path.of("/proc/self/environ"))) {
            return List.of();
        }
        byte[] marker = ("COLLAB_RUN_ID=" + runId).getBytes(StandardCharsets.UTF_8);
        // Start times are kept to the clock tick: a second of slack loses nothing.
        Instant since = agentStarted.equals(Instant.MIN) ? agentStarted : agentStarted.minusSeconds(1);
        long self = ProcessHandle.current().pid();
        return ProcessHandle.allProcesses()
            .filter(handle -> handle.pid() != self && handle.pid() != agentPid)
            .filter(handle -> handle.info().startInstant().map(start -> !start.isBefore(since)).orElse(false))
            .filter(handle -> environmentContains(handle.pid(), marker))
            .toList();
    }

    private static boolean environmentContains(long pid, byte[] entry) {
        byte[] environment;
        try {
            environment = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "environ"));
        }
        catch (IOException | SecurityException e) {
            return false; // gone meanwhile, or not ours to read
        }
        // Entries are NUL-separated: the marker must be a whole entry.
        int start = 0;
        for (int i = 0; i <= environment.length; i++) {
            if (i == environment.length || environment[i] == 0) {
                if (i - start == entry.length && Arrays.equals(environment, start, i, entry, 0, entry.length)) {
                    return true;
                }
                start = i + 1;
            }
        }
        return false;
    }

}
