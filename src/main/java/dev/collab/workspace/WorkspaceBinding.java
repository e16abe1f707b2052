package dev.collab.workspace;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Binds the workspace root to one database: the marker file {@value #MARKER} in the root
 * holds the id of the database the root belongs to. The sweeper deletes nothing while the
 * database it is connected to has another id: against a wrong database every workspace
 * looks orphaned. An unbound root is bound only when that cannot bind it to a wrong
 * database by mistake: when it holds no workspaces, or in a sweep whose orphan guard
 * passed and whose database knows at least one of its workspaces (the sweeper decides;
 * this class only writes when told it may).
 *
 * <p>
 * The identity is the random {@code installation.id} made by migration V5 when the schema
 * is created, not PostgreSQL's {@code system_identifier}. It catches a <em>wrong</em>
 * database: a fresh or empty one (a mistyped URL, a new RDS instance), another team's or
 * another stage's installation, another database on the same server (which shares the
 * cluster's {@code system_identifier}). It deliberately survives what keeps the sessions:
 * a dump restored elsewhere, a snapshot, a point-in-time restore, a major-version
 * upgrade, a move to another server, none of which should stop the sweeper (the
 * {@code system_identifier} changes with some of them). What it does not catch: a copy of
 * this very database, such as an <em>older</em> backup restored in its place, or a
 * staging copy made with a dump; such a database knows the workspaces of its own past and
 * misses the newer ones. The orphan-fraction guard of the sweeper
 * ({@code max-orphan-fraction}) is the net for that case.
 */
@Component
class WorkspaceBinding {

    /** In the workspace root; not a session id, so never taken for a workspace. */
    static final String MARKER = ".collab-database";
    static final String DATABASE_MISMATCH = "database-mismatch";
    static final String MARKER_UNREADABLE = "marker-unreadable";

    private static final String KEY = "installation-id=";

    /** A marker is a few lines; anything larger is not ours. */
    private static final long MAX_MARKER_BYTES = 4096;

    /**
     * A marker without its final newline is still being written (where there are no hard
     * links it is written in place), unless it has been like that for this long: then its
     * writer died.
     */
    static final Duration WRITE_GRACE = Duration.ofMinutes(1);

    /**
     * How long a check waits for a marker being written before it gives up for this time.
     */
    private static final int SETTLE_ATTEMPTS = 20;

    private static final long SETTLE_PAUSE_MILLIS = 50;

    private final Path root;

    private final JdbcClient jdbc;

    /** Test seam: how the marker is read and linked. */
    volatile MarkerIo io = MarkerIo.DEFAULT;

    WorkspaceBinding(Workspaces workspaces, JdbcClient jdbc) {
        this.root = workspaces.root();
        this.jdbc = jdbc;
    }

    /** What the root's marker says about the connected database. */
    enum Status {

        /** The marker names the connected database: sweeps may delete. */
        BOUND,
        /**
         * No marker yet: sweeps run, guarded by the orphan guard alone, and bind the root
         * when it is safe.
         */
        UNBOUND,
        /** The marker names another database: nothing is deleted. */
        DATABASE_MISMATCH,
        /**
         * The marker is not a regular file, or holds no single installation id: nothing
         * is deleted.
         */
        MARKER_UNREADABLE;

        String json() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

    }

    /**
     * The outcome of one check.
     *
     * @param status what the marker says
     * @param written this check wrote the marker (the root was not bound before)
     * @param boundTo the id in the marker (null when there is none or it is unreadable)
     * @param connectedTo the id of the connected database
     */
    record Check(Status status, boolean written, @Nullable UUID boundTo, UUID connectedTo) {

        /** The root belongs to the connected database. */
        boolean bound() {
            return status == Status.BOUND;
        }

        /**
         * Why sweeps must delete nothing ({@link #DATABASE_MISMATCH},
         * {@link #MARKER_UNREADABLE}); null when they may.
         */
        @Nullable String reason() {
            return status == Status.DATABASE_MISMATCH || status == Status.MARKER_UNREADABLE ? status.json() : null;
        }
    }

    /**
     * How the marker is opened for reading and linked into place; a seam so that tests
     * can inject the errors that cannot be made as root (EACCES) or on this filesystem
     * (no links).
     */
    record MarkerIo(Opener opener, Linker linker) {

        static final MarkerIo DEFAULT = new MarkerIo(
                marker -> Files.newByteChannel(marker, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)),
                Files::createLink);

    }

    @FunctionalInterface
    interface Opener {

        SeekableByteChannel open(Path marker) throws IOException;

    }

    @FunctionalInterface
    interface Linker {

        void link(Path link, Path existing) throws IOException;

    }

    /** The installation id of the connected database. */
    UUID database() {
        return jdbc.sql("select id from installation").query((rs, row) -> rs.getObject(1, UUID.class)).single();
    }

    /**
     * Checks the root against the connected database.
     * @param mayBind write the marker if there is none; otherwise an unmarked root is
     * {@link Status#UNBOUND}
     * @throws IOException when the marker cannot be read (EACCES, EIO, ESTALE: nothing to
     * say about the marker itself) or is still being written by another server
     */
    Check check(boolean mayBind) throws IOException {
        return check(root, database(), mayBind, io);
    }

    /** Checks and binds an unbound root; for tests. */
    static Check check(Path root, UUID database) throws IOException {
        return check(root, database, true, MarkerIo.DEFAULT);
    }

    static Check check(Path root, UUID database, boolean mayBind, MarkerIo io) throws IOException {
        boolean written = false;
        Optional<String> text = readSettled(root, io);
        if (text.isEmpty()) {
            if (!mayBind) {
                return new Check(Status.UNBOUND, false, null, database);
            }
            written = write(root, database, io);
            text = readSettled(root, io);
            if (text.isEmpty()) {
                throw new IOException("The marker " + MARKER + " vanished right after it was written");
            }
        }
        Optional<UUID> boundTo = parse(text.get());
        if (boundTo.isEmpty()) {
            return new Check(Status.MARKER_UNREADABLE, false, null, database);
        }
        boolean bound = boundTo.get().equals(database);
        return new Check(bound ? Status.BOUND : Status.DATABASE_MISMATCH, written && bound, boundTo.get(), database);
    }

    /**
     * The marker's text once it is complete; empty when there is none. Waits a little for
     * a marker another server is writing in place; if it is still incomplete then, the
     * check fails (the sweep deletes nothing and the next one checks again), unless it
     * has been incomplete for longer than {@link #WRITE_GRACE}: then it is returned as it
     * is, and reads as garbage.
     */
    private static Optional<String> readSettled(Path root, MarkerIo io) throws IOException {
        for (int attempt = 1;; attempt++) {
            Optional<Read> read = read(root, io);
            if (read.isEmpty()) {
                return Optional.empty();
            }
            Read marker = read.get();
            if (marker.settled() || marker.modified().isBefore(Instant.now().minus(WRITE_GRACE))) {
                return Optional.of(marker.text());
            }
            if (attempt == SETTLE_ATTEMPTS) {
                throw new IOException("The marker " + MARKER + " is still being written by another server;"
                        + " it is read again at the next sweep");
            }
            try {
                Thread.sleep(SETTLE_PAUSE_MILLIS);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("Interrupted while the marker " + MARKER + " was being written", e);
            }
        }
    }

    /**
     * @param settled complete (it ends with the newline after the id line, the last thing
     * written), or garbage that waiting will not change
     */
    private record Read(String text, boolean settled, Instant modified) {
    }

    /**
     * The marker's text; empty when there is none. A marker that is not a regular file (a
     * link is never followed, not even to read it) or too large reads as garbage, so the
     * check fails closed. An error reading a regular file (EACCES, EIO, ESTALE) is
     * thrown: it says nothing about the marker, and taking it for garbage would tell
     * operators to delete a valid marker.
     */
    private static Optional<Read> read(Path root, MarkerIo io) throws IOException {
        Path marker = root.resolve(MARKER);
        Optional<BasicFileAttributes> attributes = lstat(marker);
        if (attributes.isEmpty()) {
            return Optional.empty();
        }
        Instant modified = attributes.get().lastModifiedTime().toInstant();
        if (!attributes.get().isRegularFile() || attributes.get().size() > MAX_MARKER_BYTES) {
            return Optional.of(new Read("", true, modified));
        }
        try (SeekableByteChannel channel = io.opener().open(marker)) {
            ByteBuffer buffer = ByteBuffer.allocate((int) MAX_MARKER_BYTES + 1);
            while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
                // read it all (it is small)
            }
            buffer.flip();
            String text = StandardCharsets.UTF_8.decode(buffer).toString();
            return Optional.of(new Read(text, text.endsWith("\n"), modified));
        }
        catch (NoSuchFileException e) {
            return Optional.empty();
        }
        catch (FileSystemException e) {
            // A link swapped in after the lstat above fails the no-follow open (ELOOP):
            // garbage,
            // not followed. Anything else happened to a regular file: not the marker's
            // fault.
            Optional<BasicFileAttributes> again = lstat(marker);
            if (again.isEmpty()) {
                return Optional.empty();
            }
            if (!again.get().isRegularFile()) {
                return Optional.of(new Read("", true, modified));
            }
            throw e;
        }
    }

    private static Optional<BasicFileAttributes> lstat(Path marker) throws IOException {
        try {
            return Optional.of(Files.readAttributes(marker, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS));
        }
        catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private static Optional<UUID> parse(String text) {
        UUID found = null;
        for (String line : text.split("\n")) {
            if (!line.startsWith(KEY)) {
                continue;
            }
            if (found != null) {
                return Optional.empty();
            }
            try {
                found = UUID.fromString(line.substring(KEY.length()).strip());
            }
            catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }
        return Optional.ofNullable(found);
    }

    /**
     * Writes the marker atomically: the full text goes to a temp file first, which is
     * then hard-linked under the marker's name. {@code link(2)} never replaces an
     * existing name, so when replicas bind one shared root at the same moment exactly one
     * wins; the others find the winner's marker when they read it back, and all agree on
     * it. A plain rename would let the last writer replace the first one's marker after
     * that one had already read its own back, and {@code Files.move} without
     * REPLACE_EXISTING only checks, then renames.
     *
     * <p>
     * Where the filesystem has no hard links, the marker itself is created exclusively
     * ({@code O_CREAT|O_EXCL}, which also holds on NFSv3+ and EFS) and written in place:
     * still exactly one winner. A reader that comes while the winner writes sees an empty
     * or partial marker, without the final newline, and waits for it
     * ({@link #readSettled}) rather than acting on it or replacing it.
     * @return whether this call created the marker
     */
    private static boolean write(Path root, UUID database, MarkerIo io) throws IOException {
        Path marker = root.resolve(MARKER);
        Path temp = root.resolve(MARKER + "." + UUID.randomUUID() + ".tmp");
        String text = """
                # collab-server: this workspace root belongs to the database with this installation id
                # (select id from installation). While the server is connected to a database with
                # another id, the workspace sweeper deletes nothing. To bind this root to another
                # database on purpose, delete this file: the next sweep writes it again.
                """ + KEY + database + "\n";
        try {
            writeNew(temp, text);
            try {
                io.linker().link(marker, temp);
                return true;
            }
            catch (FileAlreadyExistsException e) {
                return false;
            }
            catch (UnsupportedOperationException | FileSystemException e) {
                try {
                    writeNew(marker, text);
                    return true;
                }
                catch (FileAlreadyExistsException raced) {
                    return false;
                }
            }
        }
        finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Creates the file (it must not exist) and writes the whole text to disk. */
    private static void writeNew(Path file, String text) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer bytes = StandardCharsets.UTF_8.encode(text);
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(true);
        }
    }

}
