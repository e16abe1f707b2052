package dev.collab.run;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

import org.springframework.core.io.ClassPathResource;

/**
 * Where the tests' fake Claude Code is (src/test/resources/agents/claude-code) and the
 * command that runs it with the JDK running the tests (its source launcher).
 */
public final class FakeClaude {

    private FakeClaude() {
    }

    public static Path directory() {
        try {
            return new ClassPathResource("agents/claude-code/FakeClaude.java").getFile().toPath().getParent();
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String java() {
        return ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** collab.runner.command's value (a comma-separated list). */
    public static String command() {
        Path directory = directory();
        return String.join(",", java(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                directory.resolve("FakeClaude.java").toString(), "--transcripts", directory.toString());
    }

}
