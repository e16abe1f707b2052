package dev.collab.workspace;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Set;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Deletes a directory tree without ever following a symbolic link, also one swapped in
 * while the delete runs: every directory is opened relative to its already-open parent
 * with {@code O_NOFOLLOW} ({@link SecureDirectoryStream}), and every entry is first
 * unlinked as if it were a file, which removes a link as a link. Where the platform has
 * no secure directory streams it refuses to delete at all.
 *
 * <p>
 * Fast on network filesystems, where each unlink costs milliseconds: a bounded pool of
 * workers deletes in parallel, also within one directory (names are split into chunks),
 * and no file is stat'ed: the unlink attempt itself tells a file from a directory.
 *
 * <p>
 * Tolerant: an entry that vanished meanwhile is fine; a directory that stays "not empty"
 * (an NFS silly-rename {@code .nfs*} file held open, a concurrent writer) is counted as a
 * failure and left for the next attempt.
 */
final class TreeDeleter {

    /** Names deleted by one task; larger directories are split across workers. */
    private static final int CHUNK = 64;

    private final ForkJoinPool pool;

    TreeDeleter(ForkJoinPool pool) {
        this.pool = pool;
    }

    /**
     * Outcome of one delete: how many files (and links) went, and whether anything was
     * left.
     */
    record Result(long filesDeleted, long directoriesDeleted, long failures) {

        boolean complete() {
            return failures == 0;
        }
    }

    /**
     * Deletes {@code directory/name} and everything under it, where {@code directory} is
     * an open secure stream (opened without following links by the caller).
     * @throws UnsupportedOperationException where the platform has no secure directory
     * streams
     */
    Result delete(SecureDirectoryStream<Path> directory, Path name) {
        Counters counters = new Counters();
        pool.invoke(new EntryTask(directory, name.getFileName(), counters));
        return counters.result();
    }

    /**
     * Opens {@code parent} as a secure directory stream; refuses (fails closed) where the
     * platform has none, since deleting without one would follow links.
     */
    static SecureDirectoryStream<Path> openSecure(Path parent) throws IOException {
        DirectoryStream<Path> stream = Files.newDirectoryStream(parent);
        if (stream instanceof SecureDirectoryStream<Path> secure) {
            return secure;
        }
        stream.close();
        throw new UnsupportedOperationException(
                "This platform has no secure directory streams; refusing to delete anything under " + parent);
    }

    private static final class Counters {

        final AtomicLong files = new AtomicLong();

        final AtomicLong directories = new AtomicLong();

        final AtomicLong failures = new AtomicLong();

        Result result() {
            return new Result(files.get(), directories.get(), failures.get());
        }

    }

    /**
     * Deletes one entry of an open directory: a file or link at once, a directory
     * recursively.
     */
    private static final class EntryTask extends RecursiveAction {

        private final SecureDirectoryStream<Path> parent;

        private final Path name;

        private final Counters counters;

        EntryTask(SecureDirectoryStream<Path> parent, Path name, Counters counters) {
            this.parent = parent;
            this.name = name;
            this.counters = counters;
        }

        @Override
        protected void compute() {
            if (unlinkUnlessDirectory(parent, name, counters)) {
                return;
            }
            SecureDirectoryStream<Path> directory;
            try {
                directory = openChild(parent, name);
            }
            catch (NoSuchFileException e) {
                return;
            }
            catch (IOException e) {
                // Not a directory any more (swapped for a link or file since): unlink
                // that instead.
                if (!unlinkUnlessDirectory(parent, name, counters)) {
                    counters.failures.incrementAndGet();
                }
                return;
            }
            try (directory) {
                List<Path> names = new ArrayList<>();
                for (Path entry : directory) {
                    names.add(entry.getFileName());
                }
                List<RecursiveAction> work = new ArrayList<>();
                for (int from = 0; from < names.size(); from += CHUNK) {
                    work.add(new ChunkTask(directory, names.subList(from, Math.min(names.size(), from + CHUNK)),
                            counters));
                }
                invokeAll(work);
            }
            catch (IOException | RuntimeException e) {
                counters.failures.incrementAndGet();
                return;
            }
            try {
                try {
                    parent.deleteDirectory(name);
                }
                catch (AccessDeniedException e) {
                    // A read-only parent: give its owner write permission back (through
                    // the handle), once.
                    if (!grantOwner(parent.getFileAttributeView(PosixFileAttributeView.class))) {
                        throw e;
                    }
                    parent.deleteDirectory(name);
                }
                counters.directories.incrementAndGet();
            }
            catch (NoSuchFileException e) {
                // gone already
            }
            catch (DirectoryNotEmptyException e) {
                counters.failures.incrementAndGet();
            }
            catch (IOException e) {
                // Emptied, then swapped for a link: remove the link, never what it points
                // to.
                if (!unlinkUnlessDirectory(parent, name, counters)) {
                    counters.failures.incrementAndGet();
                }
            }
        }

    }

    /**
     * Opens a subdirectory without following a link. An agent may have left it unreadable
     * ({@code chmod 000}); then the owner's permissions are restored on the entry itself
     * (no link followed) and it is opened again.
     */
    private static SecureDirectoryStream<Path> openChild(SecureDirectoryStream<Path> parent, Path name)
            throws IOException {
        try {
            return parent.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
        }
        catch (AccessDeniedException e) {
            grantOwner(parent.getFileAttributeView(name, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS));
            return parent.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
        }
    }

    private static boolean grantOwner(PosixFileAttributeView view) {
        if (view == null) {
            return false;
        }
        try {
            Set<PosixFilePermission> permissions = EnumSet.copyOf(view.readAttributes().permissions().isEmpty()
                    ? EnumSet.of(PosixFilePermission.OWNER_READ) : view.readAttributes().permissions());
            permissions.addAll(EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                    PosixFilePermission.OWNER_EXECUTE));
            view.setPermissions(permissions);
            return true;
        }
        catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * Unlinks a chunk of names of one directory; the ones that are directories recurse.
     */
    private static final class ChunkTask extends RecursiveAction {

        private final SecureDirectoryStream<Path> directory;

        private final List<Path> names;

        private final Counters counters;

        ChunkTask(SecureDirectoryStream<Path> directory, List<Path> names, Counters counters) {
            this.directory = directory;
            this.names = names;
            this.counters = counters;
        }

        @Override
        protected void compute() {
            List<EntryTask> subdirectories = new ArrayList<>();
            for (Path name : names) {
                if (!unlinkUnlessDirectory(directory, name, counters) && !unlinkAfterGrantingWrite(name)) {
                    subdirectories.add(new EntryTask(directory, name, counters));
                }
            }
            invokeAll(subdirectories);
        }

        /**
         * A read-only directory ({@code chmod a-w}, a Go module cache) refuses unlinks:
         * give its owner write permission back through the open handle, once, and try
         * again.
         */
        private boolean unlinkAfterGrantingWrite(Path name) {
            try {
                directory.deleteFile(name);
                counters.files.incrementAndGet();
                return true;
            }
            catch (AccessDeniedException e) {
                return grantOwner(directory.getFileAttributeView(PosixFileAttributeView.class))
                        && unlinkUnlessDirectory(directory, name, counters);
            }
            catch (IOException e) {
                return e instanceof NoSuchFileException;
            }
        }

    }

    /**
     * Unlinks {@code name} as a file ({@code unlinkat} without {@code AT_REMOVEDIR}: a
     * symbolic link goes as a link). False when it is a directory, or could not be
     * removed as a file.
     */
    private static boolean unlinkUnlessDirectory(SecureDirectoryStream<Path> directory, Path name, Counters counters) {
        try {
            directory.deleteFile(name);
            counters.files.incrementAndGet();
            return true;
        }
        catch (NoSuchFileException e) {
            return true;
        }
        catch (FileSystemException e) {
            return false;
        }
        catch (IOException e) {
            return false;
        }
    }

}
