package dev.collab.checkout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import dev.collab.session.Session;
import dev.collab.session.SessionState;
import dev.collab.workspace.Workspaces;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;
import org.springframework.stereotype.Service;

/**
 * The diff of a session's workspace against its base commit, computed on a small pool of
 * its own (never the request thread) within {@code collab.workspace.git.diff-timeout}.
 * The workspace is the agent's: git runs there with hooks, fsmonitor, external diff
 * drivers, textconv and the filters of its configuration off, on a temporary copy of the
 * index (the agent's own index is never touched), with the repository and work tree given
 * explicitly (a {@code core.worktree} the agent set is not followed).
 */
@Service
class Diffs implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(Diffs.class);

    /** The server's per-session state stays out of the diff, whatever the agent did. */
    private static final String NOT_RESERVED = ":(exclude).collab";

    private final Checkouts checkouts;

    private final Workspaces workspaces;

    private final Git git;

    private final CheckoutProperties properties;

    private final Clock clock;

    private final ThreadPoolExecutor pool;

    Diffs(Checkouts checkouts, Workspaces workspaces, Git git, CheckoutProperties properties, Clock clock) {
        this.checkouts = checkouts;
        this.workspaces = workspaces;
        this.git = git;
        this.properties = properties;
        this.clock = clock;
        // A few diffs at a time, a short line of waiting ones: past it, the caller is
        // told to retry (503 diff-timeout) rather than queueing without bound.
        this.pool = new ThreadPoolExecutor(properties.diffThreads(), properties.diffThreads(), 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(4 * properties.diffThreads()), new CustomizableThreadFactory("diff-"));
    }

    /** Thrown (as the future's failure) when the diff took longer than allowed. */
    static final class DiffTimeoutException extends RuntimeException {

        DiffTimeoutException(String message) {
            super(message, null, false, false);
        }

    }

    /** Thrown when git could not compute the diff (a broken repository). */
    static final class DiffFailedException extends RuntimeException {

        DiffFailedException(String message) {
            super(message, null, false, false);
        }

    }

    /**
     * The session's diff, in the background; read access has been checked by the caller.
     * The database is read here, on the request's thread; git runs in the pool.
     */
    CompletableFuture<Diff> diff(Session session) {
        if (session.state() == SessionState.ENDED) {
            return CompletableFuture.completedFuture(Diff.without("gone", null, null));
        }
        Optional<Checkouts.Checkout> checkout = checkouts.find(session.id());
        if (checkout.isEmpty() || checkout.get().state().equals("failed")) {
            return CompletableFuture.completedFuture(Diff.without("no-repository", null, null));
        }
        if (checkout.get().state().equals("preparing") || checkout.get().baseCommit() == null) {
            return CompletableFuture.completedFuture(Diff.without("preparing", null, checkout.get().branch()));
        }
        String base = checkout.get().baseCommit();
        String branch = checkout.get().branch();
        CompletableFuture<Diff> result = new CompletableFuture<>();
        AtomicBoolean cancelled = new AtomicBoolean();
        try {
            pool.execute(() -> {
                if (result.isDone()) {
                    return;
                }
                try {
                    result.complete(compute(session.id(), base, branch, cancelled::get));
                }
                catch (RuntimeException e) {
                    result.completeExceptionally(e);
                }
            });
        }
        catch (RejectedExecutionException e) {
            result.completeExceptionally(new DiffTimeoutException("Too many diffs are being computed; retry shortly."));
            return result;
        }
        CompletableFuture.delayedExecutor(properties.diffTimeout().toMillis(), TimeUnit.MILLISECONDS).execute(() -> {
            if (result.completeExceptionally(new DiffTimeoutException(
                    "Computing the diff took longer than " + properties.diffTimeout() + "; retry shortly."))) {
                cancelled.set(true);
            }
        });
        return result;
    }

    /** The diff itself, on a pool thread. */
    Diff compute(UUID sessionId, String base, String branch, BooleanSupplier cancelled) {
        Path directory = workspaces.directoryOf(sessionId);
        Path gitDir = directory.resolve(".git");
        if (!Files.isDirectory(gitDir, LinkOption.NOFOLLOW_LINKS)) {
            // The agent removed the repository (or replaced it with a link elsewhere).
            return Diff.without("no-repository", base, branch);
        }
        Path index = null;
        try {
            index = Files.createTempFile("collab-diff-index-", "");
            Path own = gitDir.resolve("index");
            if (Files.isRegularFile(own, LinkOption.NOFOLLOW_LINKS)) {
                Files.copy(own, index, StandardCopyOption.REPLACE_EXISTING);
            }
            else {
                Files.delete(index);
            }
            Map<String, String> env = new LinkedHashMap<>();
            env.put("GIT_DIR", gitDir.toString());
            env.put("GIT_WORK_TREE", directory.toString());
            env.put("GIT_INDEX_FILE", index.toString());
            env.put("GIT_OPTIONAL_LOCKS", "0");
            // No transport at all, whatever the agent's configuration allows: a partial
            // clone's promisor remote would otherwise be fetched from lazily for a
            // missing
            // object, and an ext:: remote URL is a command. GIT_ALLOW_PROTOCOL wins over
            // protocol.*.allow (an empty list allows nothing); GIT_NO_LAZY_FETCH (git
            // 2.45+) stops the fetch itself.
            env.put("GIT_ALLOW_PROTOCOL", "");
            env.put("GIT_NO_LAZY_FETCH", "1");
            Git.Watch watch = new Git.Watch(clock.instant().plus(properties.diffTimeout()), cancelled, null);
            List<String> safe = safeConfiguration(directory, env, watch);
            // Everything into the temporary index (.collab/ is ignored through
            // info/exclude; an exclude pathspec here would make git add fail on it), then
            // the diffs leave .collab/ out whatever the agent did to info/exclude.
            git.output(directory, command(safe, "add", "-A", "--", "."), env, watch, 1 << 16);
            String listing = git.output(directory,
                    command(safe, "diff", "--cached", "--no-ext-diff", "--no-textconv", "--no-color", "--no-relative",
                            "-M", "--raw", "--numstat", "-z", "--no-abbrev", base, "--", ".", NOT_RESERVED),
                    env, watch, 64 << 20);
            List<DiffParser.FileBuilder> all = DiffParser.parseRawAndNumstat(listing);
            int additions = 0;
            int deletions = 0;
            for (DiffParser.FileBuilder file : all) {
                additions += file.additions;
                deletions += file.deletions;
            }
            List<DiffParser.FileBuilder> shown = all.size() > properties.diffMaxFiles()
                    ? all.subList(0, properties.diffMaxFiles()) : all;
            Map<String, DiffParser.FileBuilder> byPath = new LinkedHashMap<>();
            shown.forEach(file -> byPath.put(file.path, file));
            boolean[] cut = new boolean[1];
            List<String> patch = command(safe, "diff", "--cached", "--no-ext-diff", "--no-textconv", "--no-color",
                    "--no-relative", "-M", "--patch", "--src-prefix=a/", "--dst-prefix=b/", base, "--");
            patch.addAll(pathspecs(shown, all.size() > shown.size()));
            git.run(directory, patch, env, watch,
                    stdout -> cut[0] = DiffParser.parsePatch(stdout, byPath, properties.diffMaxLines()));
            boolean truncated = all.size() > shown.size();
            List<Diff.ChangedFile> files = new ArrayList<>(shown.size());
            for (DiffParser.FileBuilder file : shown) {
                if (cut[0] && !file.binary && shownLines(file) < file.additions + file.deletions) {
                    file.truncated = true;
                }
                truncated |= file.truncated;
                files.add(file.build());
            }
            return new Diff("ready", base, branch, List.copyOf(files),
                    new Diff.DiffTotals(all.size(), additions, deletions), truncated);
        }
        catch (Git.GitException e) {
            if (e.failure() == Git.Failure.TIMEOUT || e.failure() == Git.Failure.STOPPED) {
                throw new DiffTimeoutException("Computing the diff took too long; retry shortly.");
            }
            log.warn("Session {}: the diff failed ({}): {}", sessionId, e.failure(), checkouts.redact(e.stderrTail()));
            throw new DiffFailedException("The diff could not be computed (details in the server log).");
        }
        catch (IOException e) {
            log.warn("Session {}: the diff failed: {}", sessionId, e.toString());
            throw new DiffFailedException("The diff could not be computed (details in the server log).");
        }
        finally {
            if (index != null) {
                try {
                    Files.deleteIfExists(index);
                }
                catch (IOException e) {
                    log.debug("Could not delete the temporary index {}: {}", index, e.toString());
                }
            }
        }
    }

    /** Only the files shown, when some are left out; else every change but .collab/. */
    private static List<String> pathspecs(List<DiffParser.FileBuilder> shown, boolean limited) {
        if (!limited) {
            return List.of(".", NOT_RESERVED);
        }
        Set<String> paths = new LinkedHashSet<>();
        for (DiffParser.FileBuilder file : shown) {
            paths.add(":(literal)" + file.path);
            if (file.oldPath != null) {
                paths.add(":(literal)" + file.oldPath);
            }
        }
        return List.copyOf(paths);
    }

    private static int shownLines(DiffParser.FileBuilder file) {
        int lines = 0;
        for (Diff.DiffHunk hunk : file.hunks) {
            for (String line : hunk.lines()) {
                if (line.startsWith("+") || line.startsWith("-")) {
                    lines++;
                }
            }
        }
        return lines;
    }

    /**
     * Settings that win over whatever the agent put into the repository's configuration:
     * no hooks, no fsmonitor, no external diff, no pager, and every {@code filter.<name>}
     * driver it defines emptied (a clean filter is a command git would run on add).
     */
    private List<String> safeConfiguration(Path directory, Map<String, String> env, Git.Watch watch)
            throws Git.GitException {
        List<String> safe = new ArrayList<>(List.of("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false",
                "-c", "core.quotePath=true", "-c", "core.pager=cat", "-c", "diff.external=", "-c", "gc.auto=0", "-c",
                "maintenance.auto=false", "-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false", "-c",
                "core.untrackedCache=false", "-c", "core.splitIndex=false"));
        String names;
        try {
            names = git.output(directory,
                    List.of("config", "--local", "--includes", "--name-only", "--get-regexp", "^filter\\."), env, watch,
                    1 << 20);
        }
        catch (Git.GitException e) {
            if (e.failure() != Git.Failure.FAILED) {
                throw e;
            }
            names = ""; // exit code 1: no filter at all
        }
        Set<String> drivers = new LinkedHashSet<>();
        for (String name : names.split("\n")) {
            int last = name.lastIndexOf('.');
            if (name.startsWith("filter.") && last > "filter.".length()) {
                drivers.add(name.substring("filter.".length(), last));
            }
        }
        // Through GIT_CONFIG_* rather than -c: a driver's name may hold any character,
        // an '=' too, which -c would split at.
        int count = 0;
        for (String driver : drivers) {
            for (String[] setting : new String[][] { { "clean", "" }, { "smudge", "" }, { "process", "" },
                    { "required", "false" } }) {
                env.put("GIT_CONFIG_KEY_" + count, "filter." + driver + "." + setting[0]);
                env.put("GIT_CONFIG_VALUE_" + count, setting[1]);
                count++;
            }
        }
        env.put("GIT_CONFIG_COUNT", Integer.toString(count));
        return safe;
    }

    private static List<String> command(List<String> safe, String... arguments) {
        List<String> command = new ArrayList<>(safe);
        for (String argument : arguments) {
            command.add(argument);
        }
        return command;
    }

    @Override
    public void destroy() {
        pool.shutdownNow();
    }

}
