package dev.collab.checkout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;

import dev.collab.event.EventLog;
import dev.collab.project.Project;
import dev.collab.project.Projects;
import dev.collab.session.Session;
import dev.collab.session.Sessions;
import dev.collab.workspace.Workspaces;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;

/**
 * The project's repository in a session's workspace, prepared as the first step of a run
 * (docs/runner.md, "The project's repository"): cloned with the git CLI into the
 * session's workspace, on a branch {@code collab/<session-id>}, with
 * {@code workspace.preparing} and {@code workspace.ready} in the log. Its state is a row
 * of {@code checkouts}: a ready checkout is never cloned again; a failed one is retried
 * from an emptied directory by the next run.
 */
@Service
public class Checkouts {

    private static final Logger log = LoggerFactory.getLogger(Checkouts.class);

    /** The line that keeps the server's per-session agent state out of git. */
    static final String RESERVED = ".collab/";

    /** A URL's user information, which is redacted from whatever git says. */
    private static final Pattern USER_INFO = Pattern.compile("://[^/@\\s]+@");

    private final JdbcClient jdbc;

    private final Sessions sessions;

    private final Projects projects;

    private final Workspaces workspaces;

    private final EventLog eventLog;

    private final Git git;

    private final CheckoutProperties properties;

    private final Clock clock;

    Checkouts(JdbcClient jdbc, Sessions sessions, Projects projects, Workspaces workspaces, EventLog eventLog, Git git,
            CheckoutProperties properties, Clock clock) {
        this.jdbc = jdbc;
        this.sessions = sessions;
        this.projects = projects;
        this.workspaces = workspaces;
        this.eventLog = eventLog;
        this.git = git;
        this.properties = properties;
        this.clock = clock;
    }

    /** What the first step of a run found or did. */
    public sealed interface Preparation {

        /** The project has no repository: the agent works in the plain workspace. */
        record NoRepository() implements Preparation {
        }

        /** The clone is there, on its branch (cloned now or by an earlier run). */
        record Ready(String baseCommit, String branch) implements Preparation {
        }

        /**
         * It could not be cloned: the run ends failed with this {@code workspace-failed}
         * message (words only: no path, no credentials).
         */
        record Failed(String message) implements Preparation {
        }

        /** The run was stopped while it cloned (interrupt, timeout, shutdown). */
        record Stopped() implements Preparation {
        }

    }

    /** A checkout's row. */
    record Checkout(String repoUrl, String branch, @Nullable String baseCommit, String state) {
    }

    /** The branch of a session's checkout. */
    static String branchOf(UUID sessionId) {
        return "collab/" + sessionId;
    }

    /**
     * Clones the session's project repository into its workspace unless it is there
     * already; on the run's thread, before the agent starts. Never throws for git's
     * failures (they are a {@link Preparation.Failed}); database failures propagate.
     * @param stopRequested true once the run is being stopped: the clone is killed
     */
    public Preparation prepare(UUID sessionId, UUID runId, BooleanSupplier stopRequested) {
        String repoUrl = sessions.find(sessionId)
            .map(Session::project)
            .flatMap(projects::find)
            .map(Project::repoUrl)
            .orElse(null);
        if (repoUrl == null) {
            return new Preparation.NoRepository();
        }
        Path directory = workspaces.directoryOf(sessionId);
        Optional<Checkout> existing = find(sessionId);
        // Ready is ready, whatever the agent did since (even deleting .git): cloning
        // again
        // would empty the directory, and with it the agent's work.
        if (existing.isPresent() && existing.get().state().equals("ready") && existing.get().baseCommit() != null) {
            return new Preparation.Ready(existing.get().baseCommit(), existing.get().branch());
        }
        String branch = branchOf(sessionId);
        if (existing.isEmpty() && holdsFiles(directory)) {
            // The project got its repository after this session's agent worked without
            // it: emptying the directory for the clone would throw that work away.
            return new Preparation.Failed("The workspace already holds files from earlier runs made before the "
                    + "project had a repository; start a new session to work on the repository.");
        }
        record(sessionId, repoUrl, branch, null, "preparing");
        Map<String, Object> preparing = new LinkedHashMap<>();
        preparing.put("runId", runId.toString());
        preparing.put("repoUrl", repoUrl);
        preparing.put("branch", branch);
        eventLog.append(sessionId, "workspace.preparing", preparing);
        String step = "prepare the workspace directory";
        try {
            workspaces.create(sessionId);
            empty(directory);
            step = "clone the repository";
            clone(repoUrl, directory, stopRequested);
            step = "create the branch " + branch;
            String baseCommit = git
                .output(directory, local("rev-parse", "--verify", "HEAD^{commit}"), Map.of(), shortWatch(stopRequested),
                        200)
                .strip();
            git.output(directory, local("switch", "--no-guess", "-c", branch), Map.of(), shortWatch(stopRequested),
                    4096);
            exclude(directory);
            record(sessionId, repoUrl, branch, baseCommit, "ready");
            Map<String, Object> ready = new LinkedHashMap<>();
            ready.put("runId", runId.toString());
            ready.put("baseCommit", baseCommit);
            ready.put("branch", branch);
            eventLog.append(sessionId, "workspace.ready", ready);
            return new Preparation.Ready(baseCommit, branch);
        }
        catch (Git.GitException e) {
            record(sessionId, repoUrl, branch, null, "failed");
            if (e.failure() == Git.Failure.STOPPED) {
                return new Preparation.Stopped();
            }
            log.warn("Session {} run {}: could not {} ({}): {}", sessionId, runId, step, e.failure(),
                    redact(e.stderrTail()));
            return new Preparation.Failed(message(e.failure(), step));
        }
        catch (IOException e) {
            record(sessionId, repoUrl, branch, null, "failed");
            log.warn("Session {} run {}: could not {}: {}", sessionId, runId, step, e.toString());
            return new Preparation.Failed("Could not " + step + " (details in the server log).");
        }
    }

    private String message(Git.Failure failure, String step) {
        return switch (failure) {
            case MISSING -> "Could not " + step + ": git is not installed on the server (an operator should "
                    + "install it or set collab.workspace.git.executable).";
            case TIMEOUT -> "Could not " + step + ": it took longer than " + properties.cloneTimeout() + ".";
            case TOO_BIG -> "Could not " + step + ": the repository is larger than " + properties.cloneMaxSize() + ".";
            case FAILED, STOPPED -> "Could not " + step
                    + ": git failed (the URL may be wrong, or the server may lack access to it; details in the server log).";
        };
    }

    /** The session's checkout, if its run ever prepared one. */
    Optional<Checkout> find(UUID sessionId) {
        return jdbc.sql("select repo_url, branch, base_commit, state from checkouts where session_id = :id")
            .param("id", sessionId)
            .query((rs, row) -> new Checkout(rs.getString("repo_url"), rs.getString("branch"),
                    rs.getString("base_commit"), rs.getString("state")))
            .optional();
    }

    private void record(UUID sessionId, String repoUrl, String branch, @Nullable String baseCommit, String state) {
        jdbc.sql("""
                insert into checkouts (session_id, repo_url, branch, base_commit, state, updated_at)
                values (:id, :url, :branch, :base, :state, :now)
                on conflict (session_id) do update
                   set repo_url = excluded.repo_url, branch = excluded.branch, base_commit = excluded.base_commit,
                       state = excluded.state, updated_at = excluded.updated_at
                """)
            .param("id", sessionId)
            .param("url", repoUrl)
            .param("branch", branch)
            .param("base", baseCommit)
            .param("state", state)
            .param("now", OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC))
            .update();
    }

    private void clone(String repoUrl, Path directory, BooleanSupplier stopRequested) throws Git.GitException {
        List<String> arguments = new ArrayList<>(List.of("-c", "protocol.allow=never", "-c",
                "protocol.https.allow=always", "-c", "protocol.ssh.allow=always"));
        if (repoUrl.startsWith("file:") && workspaces.allowFileRepos()) {
            // Accepted on a project only with collab.workspace.allow-file-repos (tests),
            // and looked at again here: a project saved while it was on keeps its URL
            // after an operator turns it off, and must not read the server's disk then.
            arguments.addAll(List.of("-c", "protocol.file.allow=always"));
        }
        arguments.addAll(List.of("-c", "core.hooksPath=/dev/null", "clone", "--no-recurse-submodules", "--quiet", "--",
                repoUrl, directory.toString()));
        AtomicLong lastSizeCheck = new AtomicLong();
        long maxBytes = properties.cloneMaxSize().toBytes();
        Git.Watch watch = new Git.Watch(clock.instant().plus(properties.cloneTimeout()), stopRequested, () -> {
            // A walk of the tree once a second, not on every look of the watchdog.
            long now = System.nanoTime();
            if (now - lastSizeCheck.get() < 1_000_000_000L) {
                return false;
            }
            lastSizeCheck.set(now);
            return sizeOf(directory) > maxBytes;
        });
        Path parent = directory.getParent();
        git.run(parent == null ? directory : parent, arguments, credentials(repoUrl), watch,
                stdout -> stdout.transferTo(java.io.OutputStream.nullOutputStream()));
    }

    /**
     * The credentials of configuration, for the clone's git process only: an https token
     * as an {@code http.extraHeader} through {@code GIT_CONFIG_*} (never written into
     * {@code .git/config}), an ssh key through {@code GIT_SSH_COMMAND}.
     */
    Map<String, String> credentials(String repoUrl) {
        Map<String, String> env = new LinkedHashMap<>();
        String token = properties.token();
        if (repoUrl.startsWith("https://") && token != null) {
            String basic = Base64.getEncoder()
                .encodeToString((properties.httpsUsername() + ":" + token).getBytes(StandardCharsets.UTF_8));
            env.put("GIT_CONFIG_COUNT", "1");
            env.put("GIT_CONFIG_KEY_0", "http.extraHeader");
            env.put("GIT_CONFIG_VALUE_0", "Authorization: Basic " + basic);
        }
        else if (!repoUrl.startsWith("https://") && !repoUrl.startsWith("file:")) {
            StringBuilder ssh = new StringBuilder("ssh -o BatchMode=yes -o StrictHostKeyChecking=yes");
            if (properties.sshKeyFile() != null) {
                ssh.append(" -o IdentitiesOnly=yes -i ").append(quote(properties.sshKeyFile().toString()));
            }
            if (properties.sshKnownHostsFile() != null) {
                ssh.append(" -o UserKnownHostsFile=").append(quote(properties.sshKnownHostsFile().toString()));
            }
            env.put("GIT_SSH_COMMAND", ssh.toString());
        }
        return env;
    }

    /**
     * Single quotes for the shell git runs GIT_SSH_COMMAND with (configured paths only).
     */
    private static String quote(String text) {
        return "'" + text.replace("'", "'\\''") + "'";
    }

    /** What git said, without credentials: the token and any URL's user information. */
    String redact(String text) {
        String redacted = USER_INFO.matcher(text).replaceAll("://***@");
        String token = properties.token();
        if (token != null) {
            redacted = redacted.replace(token, "***");
        }
        return redacted;
    }

    private Git.Watch shortWatch(BooleanSupplier stopRequested) {
        return new Git.Watch(clock.instant().plusSeconds(60), stopRequested, null);
    }

    /** Git inside the workspace's clone, its hooks off. */
    static List<String> local(String... arguments) {
        List<String> list = new ArrayList<>(List.of("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"));
        list.addAll(List.of(arguments));
        return list;
    }

    /**
     * {@code .collab/} is the server's (the agent's conversation store): neither the
     * agent's commits nor the diff see it.
     */
    private static void exclude(Path directory) throws IOException {
        Path info = directory.resolve(".git").resolve("info");
        Files.createDirectories(info);
        Path exclude = info.resolve("exclude");
        String line = "\n# the collab server's per-session state\n" + RESERVED + "\n";
        Files.writeString(exclude, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static boolean holdsFiles(Path directory) {
        if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try (var entries = Files.list(directory)) {
            return entries.findAny().isPresent();
        }
        catch (IOException e) {
            return false; // unreadable: the clone's own steps say so
        }
    }

    /**
     * Deletes everything inside the directory (an earlier attempt's leftovers), never
     * following a link.
     */
    static void empty(Path directory) throws IOException {
        if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(directory, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, @Nullable IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                if (!dir.equals(directory)) {
                    Files.delete(dir);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Bytes under the directory (what cannot be read counts as nothing). */
    static long sizeOf(Path directory) {
        AtomicLong total = new AtomicLong();
        try {
            Files.walkFileTree(directory, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    total.addAndGet(attrs.size());
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE;
                }
            });
        }
        catch (IOException e) {
            // files come and go while git writes: the next look counts again
        }
        return total.get();
    }

}
