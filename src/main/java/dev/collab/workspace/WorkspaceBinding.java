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
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Binds the workspace root to one database: the marker file {@value #MARKER} in the root holds
 * the id of the database the root belongs to, written when a server first checks an unbound
 * root. The sweeper deletes nothing while the database it is connected to has another id: against
 * a wrong database every workspace looks orphaned.
 *
 * <p>The identity is the random {@code installation.id} made by migration V5 when the schema is
 * created, not PostgreSQL's {@code system_identifier}. It catches a <em>wrong</em> database: a
 * fresh or empty one (a mistyped URL, a new RDS instance), another team's or another stage's
 * installation, another database on the same server (which shares the cluster's
 * {@code system_identifier}). It deliberately survives what keeps the sessions: a dump restored
 * elsewhere, a snapshot, a point-in-time restore, a major-version upgrade, a move to another
 * server, none of which should stop the sweeper (the {@code system_identifier} changes with some
 * of them). What it does not catch: a copy of this very database, such as an <em>older</em>
 * backup restored in its place, or a staging copy made with a dump; such a database knows the
 * workspaces of its own past and misses the newer ones. The orphan-fraction guard of the sweeper
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

    private final Path root;
    private final JdbcClient jdbc;

    WorkspaceBinding(Workspaces workspaces, JdbcClient jdbc) {
        this.root = workspaces.root();
        this.jdbc = jdbc;
    }

    /**
     * The outcome of one check.
     *
     * @param bound        the root belongs to the connected database: the sweeper may delete
     * @param written      this check wrote the marker (the root was not bound before)
     * @param reason       why not bound: {@link #DATABASE_MISMATCH} or {@link #MARKER_UNREADABLE}; null when bound
     * @param boundTo      the id in the marker (null when unreadable)
     * @param connectedTo  the id of the connected database
     */
    record Check(boolean bound, boolean written, String reason, UUID boundTo, UUID connectedTo) {
    }

    /** Checks the root against the connected database, binding an unbound root to it. */
    Check check() throws IOException {
        UUID database = jdbc.sql("select id from installation").query((rs, row) -> rs.getObject(1, UUID.class)).single();
        return check(root, database);
    }

    static Check check(Path root, UUID database) throws IOException {
        boolean written = false;
        Optional<String> text = read(root);
        if (text.isEmpty()) {
            written = write(root, database);
            text = read(root);
            if (text.isEmpty()) {
                throw new IOException("The marker " + MARKER + " vanished right after it was written");
            }
        }
        Optional<UUID> boundTo = parse(text.get());
        if (boundTo.isEmpty()) {
            return new Check(false, false, MARKER_UNREADABLE, null, database);
        }
        boolean bound = boundTo.get().equals(database);
        return new Check(bound, written && bound, bound ? null : DATABASE_MISMATCH, boundTo.get(), database);
    }

    /**
     * The marker's text; empty when there is none. A marker that is not a regular file (a link is
     * never followed, not even to read it) or too large reads as garbage, so the check fails
     * closed.
     */
    private static Optional<String> read(Path root) throws IOException {
        Path marker = root.resolve(MARKER);
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(marker, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        if (!attributes.isRegularFile() || attributes.size() > MAX_MARKER_BYTES) {
            return Optional.of("");
        }
        try (SeekableByteChannel channel = Files.newByteChannel(marker,
                Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
            ByteBuffer buffer = ByteBuffer.allocate((int) MAX_MARKER_BYTES + 1);
            while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
                // read it all (it is small)
            }
            buffer.flip();
            return Optional.of(StandardCharsets.UTF_8.decode(buffer).toString());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (FileSystemException e) {
            // A link swapped in after the lstat above (ELOOP): garbage, not followed.
            return Optional.of("");
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
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }
        return Optional.ofNullable(found);
    }

    /**
     * Writes the marker atomically: the full text goes to a temp file first, which is then
     * hard-linked under the marker's name. {@code link(2)} never replaces an existing name, so
     * when replicas bind one shared root at the same moment exactly one wins; the others find the
     * winner's marker when they read it back, and all agree on it. A plain rename would let the
     * last writer replace the first one's marker after that one had already read its own back.
     * Where the filesystem has no hard links, a rename that refuses an existing target is the
     * fallback (the JDK checks, then renames: a narrow race, and every sweep reads the marker
     * again before it deletes anything, so a replica that lost it stops at its next sweep).
     *
     * @return whether this call created the marker
     */
    private static boolean write(Path root, UUID database) throws IOException {
        Path marker = root.resolve(MARKER);
        Path temp = root.resolve(MARKER + "." + UUID.randomUUID() + ".tmp");
        String text = """
                # collab-server: this workspace root belongs to the database with this installation id
                # (select id from installation). While the server is connected to a database with
                # another id, the workspace sweeper deletes nothing. To bind this root to another
                # database on purpose, delete this file: the next sweep writes it again.
                """ + KEY + database + "\n";
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer bytes = StandardCharsets.UTF_8.encode(text);
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
                channel.force(true);
            }
            try {
                Files.createLink(marker, temp);
                return true;
            } catch (FileAlreadyExistsException e) {
                return false;
            } catch (UnsupportedOperationException | FileSystemException e) {
                try {
                    Files.move(temp, marker);
                    return true;
                } catch (FileAlreadyExistsException raced) {
                    return false;
                }
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
