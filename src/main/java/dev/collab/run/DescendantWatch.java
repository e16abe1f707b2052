package dev.collab.run;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

/**
 * Remembers what each running agent started, so that what it leaves behind when it exits
 * (a background child still holding its output pipes, say) is killed with the run: once
 * the agent has exited its children are reparented and no longer show as its descendants.
 * <p>
 * Why a scan at all, and why once a second for all runs: Java cannot put an agent in a
 * process group of its own without a shell or {@code setsid}, so the process table is the
 * only way to find its tree. {@link ProcessHandle#descendants()} reads the whole table
 * each time: measured at 2.6–4.4 ms per call with ~100 processes on the 2-core build
 * machine, which is 9–15 % of a core per run at the former 30 ms flush tick. One scan of
 * the server's own descendants every {@link #INTERVAL} serves every run at once (a few ms
 * a second whatever the number of runs). A run also scans once more when it sees its
 * agent exit (before the agent's parent link is gone from the table for good: its
 * children are then reparented to this server when it is PID 1 or a subreaper), and
 * stopping a run (interrupt, timeout, shutdown) scans at that moment. What can still be
 * missed is a child started in the last second before its agent exited, reparented
 * elsewhere (to init, when this server is not PID 1), and then alive: docs/runner.md.
 * <p>
 * {@link RunUpkeep}: it goes on while runs still run during the drain.
 */
@Component
class DescendantWatch extends RunUpkeep {

    static final Duration INTERVAL = Duration.ofSeconds(1);

    private static final Logger log = LoggerFactory.getLogger(DescendantWatch.class);

    /** Through a provider: see {@link RunUpkeep}. */
    private final ObjectProvider<AgentRunner> runner;

    DescendantWatch(ObjectProvider<AgentRunner> runner) {
        super("run-descendants", INTERVAL);
        this.runner = runner;
    }

    @Override
    void runOnce() {
        scan();
    }

    /** One scan for all runs whose agent is running; nothing when none is. */
    void scan() {
        try {
            Map<Long, AgentRun> byPid = new HashMap<>();
            for (AgentRun run : runner.getObject().inProgress()) {
                ProcessHandle agent = run.agent();
                if (agent != null) {
                    byPid.put(agent.pid(), run);
                }
            }
            if (byPid.isEmpty()) {
                return;
            }
            Map<Long, List<ProcessHandle>> trees = ProcessTree.descendantsOf(Set.copyOf(byPid.keySet()));
            trees.forEach((pid, descendants) -> {
                AgentRun run = byPid.get(pid);
                if (run != null) {
                    run.rememberDescendants(descendants);
                }
            });
        }
        catch (RuntimeException e) {
            // The next scan tries again; processes come and go while the table is read.
            log.debug("Scanning the agents' processes failed: {}", e.toString());
        }
    }

}
