package dev.collab.ops;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Startup check for the directories the server writes to: created if missing, and proven
 * writable by writing a probe file (permissions alone miss read-only mounts).
 */
public final class WritableDirectories {

    private WritableDirectories() {
    }

    /**
     * @param directory the directory that must exist and be writable
     * @param property the setting an operator changes to fix it, named in the failure
     * @throws StartupCheckException when it cannot be created or written
     */
    public static Path require(Path directory, String property) {
        try {
            Files.createDirectories(directory);
        }
        catch (IOException e) {
            throw new StartupCheckException("Cannot create directory " + directory + " (" + describe(e) + ").",
                    "Set " + property + " to a directory this user (" + System.getProperty("user.name")
                            + ") can create and write.",
                    e);
        }
        Path probe = directory.resolve(".collab-write-probe-" + ProcessHandle.current().pid());
        try {
            Files.deleteIfExists(probe);
            Files.createFile(probe);
            Files.delete(probe);
        }
        catch (IOException e) {
            throw new StartupCheckException("Directory " + directory + " is not writable (" + describe(e) + ").",
                    "Set " + property + " to a directory this user (" + System.getProperty("user.name")
                            + ") can write, or fix its permissions.",
                    e);
        }
        return directory;
    }

    private static String describe(IOException e) {
        return e.getClass().getSimpleName().replace("Exception", "")
                + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

}
