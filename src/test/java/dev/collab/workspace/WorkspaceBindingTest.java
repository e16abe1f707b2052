package dev.collab.workspace;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.collab.support.TempDirectories;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The marker file that binds a workspace root to one database: real files, real races.
 */
class WorkspaceBindingTest {

    private final Path root = TempDirectories.create("binding-");

    @Test
    void theFirstCheckWritesTheMarkerAndLaterChecksCompareWithIt() throws IOException {
        UUID a = UUID.randomUUID();
        WorkspaceBinding.Check first = WorkspaceBinding.check(root, a);
        assertThat(first.bound()).isTrue();
        assertThat(first.written()).isTrue();
        assertThat(Files.readString(root.resolve(WorkspaceBinding.MARKER))).contains("installation-id=" + a);
        assertThat(WorkspaceBinding.check(root, a)).satisfies(check -> {
            assertThat(check.bound()).isTrue();
            assertThat(check.written()).isFalse();
        });

        UUID b = UUID.randomUUID();
        WorkspaceBinding.Check wrong = WorkspaceBinding.check(root, b);
        assertThat(wrong.bound()).isFalse();
        assertThat(wrong.reason()).isEqualTo(WorkspaceBinding.DATABASE_MISMATCH);
        assertThat(wrong.boundTo()).isEqualTo(a);
        assertThat(wrong.connectedTo()).isEqualTo(b);
        assertThat(Files.readString(root.resolve(WorkspaceBinding.MARKER))).as("a mismatch never rewrites the marker")
            .contains("installation-id=" + a);
        try (var entries = Files.list(root)) {
            assertThat(entries).as("no temp file is left behind").hasSize(1);
        }
    }

    @Test
    void replicasStartingAtOnceOnOneRootAgreeOnOneWinner() throws Exception {
        raceForAFreshRoot(WorkspaceBinding.MarkerIo.DEFAULT);
    }

    @Test
    void withoutHardLinksTheMarkerIsCreatedExclusivelyAndStillHasOneWinner() throws Exception {
        // A filesystem without hard links (link(2) fails with EPERM or is not supported).
        raceForAFreshRoot(
                new WorkspaceBinding.MarkerIo(WorkspaceBinding.MarkerIo.DEFAULT.opener(), (link, existing) -> {
                    throw new UnsupportedOperationException("no hard links here");
                }));
    }

    private void raceForAFreshRoot(WorkspaceBinding.MarkerIo io) throws Exception {
        // Eight "replicas", each connected to a database of its own, racing for a fresh
        // root.
        int replicas = 8;
        List<UUID> databases = new ArrayList<>();
        for (int i = 0; i < replicas; i++) {
            databases.add(UUID.randomUUID());
        }
        CountDownLatch start = new CountDownLatch(1);
        List<Future<WorkspaceBinding.Check>> checks = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(replicas)) {
            for (UUID database : databases) {
                checks.add(pool.submit(() -> {
                    start.await();
                    return WorkspaceBinding.check(root, database, true, io);
                }));
            }
            start.countDown();
            List<WorkspaceBinding.Check> results = new ArrayList<>();
            for (Future<WorkspaceBinding.Check> check : checks) {
                results.add(check.get());
            }
            assertThat(results).filteredOn(WorkspaceBinding.Check::bound).hasSize(1);
            UUID winner = results.stream()
                .filter(WorkspaceBinding.Check::bound)
                .findFirst()
                .orElseThrow()
                .connectedTo();
            assertThat(results).allSatisfy(check -> assertThat(check.boundTo()).isEqualTo(winner));
            assertThat(Files.readString(root.resolve(WorkspaceBinding.MARKER))).contains("installation-id=" + winner);
            try (var entries = Files.list(root)) {
                assertThat(entries).as("only the marker, no temp files").hasSize(1);
            }
            // And later checks agree with the race's outcome.
            for (UUID database : databases) {
                assertThat(WorkspaceBinding.check(root, database, true, io).bound()).isEqualTo(database.equals(winner));
            }
        }
    }

    @Test
    void aMarkerThatCannotBeReadStopsTheSweeperRatherThanBeingReplaced() throws IOException {
        UUID database = UUID.randomUUID();
        Path marker = root.resolve(WorkspaceBinding.MARKER);

        Files.writeString(marker, "garbage\n");
        WorkspaceBinding.Check garbled = WorkspaceBinding.check(root, database);
        assertThat(garbled.bound()).isFalse();
        assertThat(garbled.reason()).isEqualTo(WorkspaceBinding.MARKER_UNREADABLE);
        assertThat(marker).hasContent("garbage\n");

        Files.delete(marker);
        Path elsewhere = Files.writeString(TempDirectories.create("elsewhere-").resolve("id"),
                "installation-id=" + database + "\n");
        Files.createSymbolicLink(marker, elsewhere);
        WorkspaceBinding.Check link = WorkspaceBinding.check(root, database);
        assertThat(link.bound()).as("a link is never followed, not even to read it").isFalse();
        assertThat(link.reason()).isEqualTo(WorkspaceBinding.MARKER_UNREADABLE);
        assertThat(Files.isSymbolicLink(marker)).isTrue();

        Files.delete(marker);
        assertThat(WorkspaceBinding.check(root, database).bound()).as("deleting the marker re-binds").isTrue();
    }

    @Test
    void aReadErrorIsNotTakenForABadMarker() throws IOException {
        UUID database = UUID.randomUUID();
        WorkspaceBinding.check(root, database);
        String bound = Files.readString(root.resolve(WorkspaceBinding.MARKER));
        // EACCES, EIO, ESTALE say nothing about the marker (tests run as root, so the
        // error is injected).
        var failing = new WorkspaceBinding.MarkerIo(path -> {
            throw new AccessDeniedException(path.toString());
        }, WorkspaceBinding.MarkerIo.DEFAULT.linker());
        assertThatThrownBy(() -> WorkspaceBinding.check(root, database, true, failing))
            .isInstanceOf(AccessDeniedException.class);
        assertThat(root.resolve(WorkspaceBinding.MARKER)).as("left as it is").hasContent(bound);
        assertThat(WorkspaceBinding.check(root, database).bound()).isTrue();
    }

    @Test
    void aMarkerStillBeingWrittenIsNeitherActedOnNorCalledUnreadable() throws IOException {
        UUID database = UUID.randomUUID();
        Path marker = root.resolve(WorkspaceBinding.MARKER);
        // What a reader sees while another server writes the marker in place (no hard
        // links).
        for (String partial : new String[] { "", "# collab-server: this work", "installation-id=" + database }) {
            Files.writeString(marker, partial);
            assertThatThrownBy(() -> WorkspaceBinding.check(root, database)).as("'%s'", partial)
                .isInstanceOf(IOException.class)
                .hasMessageContaining("being written");
            assertThat(marker).hasContent(partial);
        }
        // One that stays partial (its writer died) is garbage after a while: the operator
        // is told.
        Files.writeString(marker, "");
        Files.setLastModifiedTime(marker, FileTime.from(Instant.now().minus(Duration.ofMinutes(5))));
        assertThat(WorkspaceBinding.check(root, database).reason()).isEqualTo(WorkspaceBinding.MARKER_UNREADABLE);
    }

    @Test
    void anUnboundRootIsOnlyBoundWhenTheCallerMayBindIt() throws IOException {
        UUID database = UUID.randomUUID();
        WorkspaceBinding.Check unbound = WorkspaceBinding.check(root, database, false,
                WorkspaceBinding.MarkerIo.DEFAULT);
        assertThat(unbound.status()).isEqualTo(WorkspaceBinding.Status.UNBOUND);
        assertThat(unbound.bound()).isFalse();
        assertThat(unbound.reason()).as("not a reason to stop").isNull();
        assertThat(root.resolve(WorkspaceBinding.MARKER)).doesNotExist();
        assertThat(WorkspaceBinding.check(root, database, true, WorkspaceBinding.MarkerIo.DEFAULT).written()).isTrue();
    }

}
