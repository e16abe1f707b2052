package dev.collab.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Temp data directories for tests, never the real {@code ~/.collab}; removed when the JVM
 * exits.
 */
public final class TempDirectories {

    private static final Path ROOT = createRoot();

    private TempDirectories() {
    }

    public static Path create(String prefix) {
        try {
            return Files.createTempDirectory(ROOT, prefix);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void deleteRecursively(Path path) {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(path)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        catch (IOException | UncheckedIOException e) {
            // best effort: a temp directory
        }
    }

    private static Path createRoot() {
        try {
            Path root = Files.createTempDirectory("collab-test-");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteRecursively(root)));
            return root;
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

}
