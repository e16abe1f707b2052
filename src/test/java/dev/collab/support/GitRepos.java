package dev.collab.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Real git repositories for tests, in temp directories: git runs with a HOME of its own
 * and no system or global configuration, never the user's.
 */
public final class GitRepos {

    private static final Path HOME = TempDirectories.create("git-home-");

    private GitRepos() {
    }

    /**
     * A bare repository whose one commit holds these files (path → content: a String or
     * byte[]); its {@code file://} URL is {@link #url(Path)}.
     */
    public static Path bare(String name, Map<String, ?> files) {
        Path work = TempDirectories.create("git-work-");
        git(work, "init", "-q", "-b", "main");
        write(work, files);
        git(work, "add", "-A");
        git(work, "commit", "-q", "-m", "initial");
        Path bare = TempDirectories.create("git-bare-").resolve(name);
        git(work, "clone", "-q", "--bare", "--", work.toString(), bare.toString());
        return bare;
    }

    public static String url(Path bare) {
        return "file://" + bare.toAbsolutePath();
    }

    /** Writes the files (String or byte[] contents) under the directory. */
    public static void write(Path directory, Map<String, ?> files) {
        try {
            for (Map.Entry<String, ?> file : files.entrySet()) {
                Path path = directory.resolve(file.getKey());
                Files.createDirectories(path.getParent());
                byte[] content = file.getValue() instanceof byte[] bytes ? bytes
                        : file.getValue().toString().getBytes(StandardCharsets.UTF_8);
                Files.write(path, content);
            }
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Runs git in the directory; returns its standard output, fails on a non-zero exit.
     */
    public static String git(Path directory, String... arguments) {
        List<String> command = new ArrayList<>(List.of("git", "-c", "user.name=Test", "-c",
                "user.email=test@example.com", "-c", "protocol.file.allow=always", "-c", "init.defaultBranch=main"));
        command.addAll(List.of(arguments));
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(name -> name.startsWith("GIT_"));
        env.put("HOME", HOME.toString());
        env.put("GIT_CONFIG_NOSYSTEM", "1");
        env.put("GIT_CONFIG_GLOBAL", "/dev/null");
        try {
            Process process = builder.start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException("git " + String.join(" ", arguments) + " failed: " + output);
            }
            return output;
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

}
