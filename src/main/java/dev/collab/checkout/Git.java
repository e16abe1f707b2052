package dev.collab.checkout;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Component;

/**
 * Runs the git CLI for this module: an argument list (never a shell), an environment
 * built from scratch (PATH, a scratch HOME, no system or global configuration, no
 * prompts, the C locale) plus what the caller adds for this one process (credentials),
 * bounded in time, stopped on request, and killed with everything it started (transport
 * helpers, index-pack) when any of those ends it.
 */
@Component
class Git {

    /** How often the watchdog looks at the deadline, the stop signal and the size. */
    private static final long WATCH_MILLIS = 100;

    /** The stderr kept for the log: the end, where git says what went wrong. */
    private static final int STDERR_TAIL_CHARS = 2000;

    private final CheckoutProperties properties;

    private final Clock clock;

    private final Path home;

    Git(CheckoutProperties properties, Clock clock) {
        this.properties = properties;
        this.clock = clock;
        try {
            // An empty HOME of git's own: no ~/.gitconfig, ~/.ssh/config or credential
            // store of the server's user is read.
            this.home = Files.createTempDirectory("collab-git-home-");
        }
        catch (IOException e) {
            throw new UncheckedIOException("Cannot create git's scratch HOME", e);
        }
    }

    /** Reads a process's standard output. */
    @FunctionalInterface
    interface Reader<T> {

        T read(InputStream stdout) throws IOException;

    }

    /**
     * What ends a git process early, looked at every 100 ms while it runs.
     *
     * @param deadline when it is stopped as too slow
     * @param stop true once the caller no longer wants the answer (a stopped run, a diff
     * that timed out)
     * @param tooBig true once what it writes has grown too large (null: no check)
     */
    record Watch(Instant deadline, BooleanSupplier stop, @Nullable BooleanSupplier tooBig) {
    }

    /** Why git did not give an answer. */
    enum Failure {

        /** No git command on PATH (or not executable). */
        MISSING,
        /** It exited with a non-zero code. */
        FAILED,
        /** The deadline passed. */
        TIMEOUT,
        /** The caller stopped it (or the calling thread was interrupted). */
        STOPPED,
        /** It grew past the size limit. */
        TOO_BIG

    }

    /** Git did not answer; {@link #stderrTail()} is for the log only (never users). */
    static final class GitException extends Exception {

        private final Failure failure;

        private final String stderrTail;

        GitException(Failure failure, String stderrTail) {
            super(failure.name(), null, false, false);
            this.failure = failure;
            this.stderrTail = stderrTail;
        }

        Failure failure() {
            return failure;
        }

        String stderrTail() {
            return stderrTail;
        }

    }

    /**
     * Runs {@code git <arguments>} in {@code directory} and reads its output with
     * {@code reader} on the calling thread.
     * @param environment added to the scratch environment (this process only)
     */
    <T> T run(Path directory, List<String> arguments, Map<String, String> environment, Watch watch, Reader<T> reader)
            throws GitException {
        List<String> command = new ArrayList<>(arguments.size() + 1);
        command.add(properties.executable());
        command.addAll(arguments);
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile());
        Map<String, String> env = builder.environment();
        env.clear();
        String path = System.getenv("PATH");
        env.put("PATH", path == null || path.isBlank() ? "/usr/local/bin:/usr/bin:/bin" : path);
        env.put("HOME", home.toString());
        env.put("LANG", "C");
        env.put("LC_ALL", "C");
        env.put("GIT_TERMINAL_PROMPT", "0");
        env.put("GIT_CONFIG_NOSYSTEM", "1");
        env.put("GIT_CONFIG_GLOBAL", "/dev/null");
        env.put("GIT_PAGER", "cat");
        // Repository discovery never climbs above the workspace root.
        Path parent = directory.getParent();
        if (parent != null) {
            env.put("GIT_CEILING_DIRECTORIES", parent.toString());
        }
        env.putAll(environment);
        Process process;
        try {
            process = builder.start();
        }
        catch (IOException e) {
            throw new GitException(Failure.MISSING, "");
        }
        closeQuietly(process.getOutputStream());
        StringBuilder stderr = new StringBuilder();
        Thread stderrReader = Thread.ofVirtual().name("git-stderr").start(() -> tail(process.getErrorStream(), stderr));
        Thread caller = Thread.currentThread();
        Failure[] ended = new Failure[1];
        Thread watchdog = Thread.ofVirtual().name("git-watch").start(() -> {
            try {
                while (process.isAlive()) {
                    Failure reason = null;
                    if (watch.stop().getAsBoolean() || caller.isInterrupted()) {
                        reason = Failure.STOPPED;
                    }
                    else if (!clock.instant().isBefore(watch.deadline())) {
                        reason = Failure.TIMEOUT;
                    }
                    else if (watch.tooBig() != null && watch.tooBig().getAsBoolean()) {
                        reason = Failure.TOO_BIG;
                    }
                    if (reason != null) {
                        synchronized (ended) {
                            ended[0] = reason;
                        }
                        killTree(process);
                        return;
                    }
                    Thread.sleep(WATCH_MILLIS);
                }
            }
            catch (InterruptedException e) {
                // the process has been waited for: nothing to watch
            }
        });
        T result;
        boolean enough = false;
        try (InputStream stdout = process.getInputStream()) {
            result = reader.read(stdout);
            if (stdout.read() >= 0) {
                // The reader has all it wants (a limit): the rest is not computed.
                enough = true;
                killTree(process);
            }
            process.waitFor();
            stderrReader.join(2000);
        }
        catch (IOException e) {
            killTree(process);
            Failure reason = endedOr(ended, null);
            throw new GitException(reason != null ? reason : Failure.FAILED, tailOf(stderr));
        }
        catch (InterruptedException e) {
            killTree(process);
            Thread.currentThread().interrupt();
            throw new GitException(Failure.STOPPED, tailOf(stderr));
        }
        finally {
            watchdog.interrupt();
            if (process.isAlive()) {
                killTree(process);
            }
        }
        Failure reason = endedOr(ended, null);
        if (enough && reason != Failure.STOPPED && reason != Failure.TIMEOUT) {
            return result;
        }
        if (reason != null) {
            throw new GitException(reason, tailOf(stderr));
        }
        if (process.exitValue() != 0) {
            throw new GitException(Failure.FAILED, tailOf(stderr));
        }
        return result;
    }

    /** Runs git for its standard output as text (at most {@code maxBytes}). */
    String output(Path directory, List<String> arguments, Map<String, String> environment, Watch watch, int maxBytes)
            throws GitException {
        return run(directory, arguments, environment, watch,
                stdout -> new String(stdout.readNBytes(maxBytes), StandardCharsets.UTF_8));
    }

    private static void closeQuietly(java.io.OutputStream stdin) {
        try {
            stdin.close();
        }
        catch (IOException e) {
            // git reads no input
        }
    }

    private static @Nullable Failure endedOr(Failure[] ended, @Nullable Failure otherwise) {
        synchronized (ended) {
            return ended[0] != null ? ended[0] : otherwise;
        }
    }

    /** Git and its transport helpers, index-pack, filters…: SIGKILL, children first. */
    static void killTree(Process process) {
        ProcessHandle handle = process.toHandle();
        try {
            handle.descendants().forEach(ProcessHandle::destroyForcibly);
        }
        catch (RuntimeException e) {
            // processes come and go while the table is read: kill what is left below
        }
        handle.destroyForcibly();
    }

    private static void tail(InputStream stream, StringBuilder into) {
        byte[] buffer = new byte[4096];
        try (stream) {
            int read;
            while ((read = stream.read(buffer)) >= 0) {
                synchronized (into) {
                    into.append(new String(buffer, 0, read, StandardCharsets.UTF_8));
                    if (into.length() > 2 * STDERR_TAIL_CHARS) {
                        into.delete(0, into.length() - STDERR_TAIL_CHARS);
                    }
                }
            }
        }
        catch (IOException e) {
            // the process is gone
        }
    }

    private static String tailOf(StringBuilder stderr) {
        synchronized (stderr) {
            int from = Math.max(0, stderr.length() - STDERR_TAIL_CHARS);
            return stderr.substring(from).strip();
        }
    }

}
