package dev.collab.workspace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

class TreeDeleterTest {

    static final ForkJoinPool POOL = new ForkJoinPool(4);

    final TreeDeleter deleter = new TreeDeleter(POOL);

    @TempDir
    Path temp;

    Path quarantine;

    Path outside;

    @AfterAll
    static void stopPool() {
        POOL.shutdownNow();
    }

    @BeforeEach
    void setUp() throws IOException {
        quarantine = Files.createDirectories(temp.resolve("quarantine"));
        outside = Files.createDirectories(temp.resolve("outside"));
        Files.writeString(outside.resolve("precious.txt"), "keep me");
        Files.createDirectories(outside.resolve("sub"));
        Files.writeString(outside.resolve("sub/also.txt"), "keep me too");
    }

    private Path tree(String name, int directories, int filesEach) throws IOException {
        Path root = Files.createDirectories(quarantine.resolve(name));
        for (int d = 0; d < directories; d++) {
            Path dir = Files.createDirectories(root.resolve("d" + d).resolve("nested"));
            for (int f = 0; f < filesEach; f++) {
                Files.writeString(dir.resolve("f" + f), "x");
            }
        }
        return root;
    }

    private TreeDeleter.Result delete(Path name) throws IOException {
        try (var directory = TreeDeleter.openSecure(quarantine)) {
            return deleter.delete(directory, name);
        }
    }

    private void assertOutsideIntact() throws IOException {
        assertThat(Files.readString(outside.resolve("precious.txt"))).isEqualTo("keep me");
        assertThat(Files.readString(outside.resolve("sub/also.txt"))).isEqualTo("keep me too");
    }

    @Test
    void deletesATreeInParallelAndCountsFiles() throws IOException {
        Path root = tree("ws", 5, 150);
        Files.writeString(root.resolve("top.txt"), "t");
        TreeDeleter.Result result = delete(root.getFileName());
        assertThat(result.complete()).isTrue();
        assertThat(result.filesDeleted()).isEqualTo(5 * 150 + 1);
        assertThat(result.directoriesDeleted()).isEqualTo(1 + 5 * 2);
        assertThat(root).doesNotExist();
    }

    @Test
    void linksToDirectoriesAndFilesOutsideAreRemovedAsLinks() throws IOException {
        Path root = tree("ws", 1, 3);
        Files.createSymbolicLink(root.resolve("dir-link"), outside);
        Files.createSymbolicLink(root.resolve("d0/nested/file-link"), outside.resolve("precious.txt"));
        Files.createSymbolicLink(root.resolve("dangling"), temp.resolve("nowhere"));
        TreeDeleter.Result result = delete(root.getFileName());
        assertThat(result.complete()).isTrue();
        assertThat(root).doesNotExist();
        assertOutsideIntact();
    }

    @Test
    void theTopEntryBeingALinkRemovesOnlyTheLink() throws IOException {
        Path link = Files.createSymbolicLink(quarantine.resolve("ws"), outside);
        assertThat(delete(link.getFileName()).complete()).isTrue();
        assertThat(link).doesNotExist();
        assertOutsideIntact();
    }

    /**
     * A directory swapped for a link to a canary, over and over, while the delete runs.
     */
    @Test
    void aLinkSwappedInDuringTheDeleteIsNeverFollowed() throws Exception {
        java.util.concurrent.atomic.AtomicInteger swaps = new java.util.concurrent.atomic.AtomicInteger();
        for (int round = 0; round < 40; round++) {
            Path root = tree("race" + round, 3, 40);
            Path victim = root.resolve("d1");
            Path parked = root.resolve("parked");
            AtomicBoolean done = new AtomicBoolean();
            Thread swapper = Thread.ofPlatform().start(() -> {
                while (!done.get()) {
                    try {
                        Files.move(victim, parked);
                        Files.createSymbolicLink(victim, outside);
                        swaps.incrementAndGet();
                        Thread.onSpinWait();
                        Files.delete(victim);
                        Files.move(parked, victim);
                    }
                    catch (IOException e) {
                        // the deleter got there first: keep trying until it is done
                    }
                }
            });
            try {
                delete(root.getFileName());
            }
            finally {
                done.set(true);
                swapper.join();
            }
            assertOutsideIntact();
            // Whatever the swapper left behind goes in a second pass, still without
            // following links.
            delete(root.getFileName());
            assertThat(root).doesNotExist();
            assertOutsideIntact();
        }
        assertThat(swaps.get()).as("links were swapped in while deletes ran").isPositive();
    }

    @Test
    void filesVanishingDuringTheDeleteAreFine() throws Exception {
        Path root = tree("vanish", 4, 300);
        Thread competitor = Thread.ofPlatform().start(() -> {
            try (var files = Files.walk(root)) {
                files.filter(Files::isRegularFile).forEach(file -> file.toFile().delete());
            }
            catch (IOException | RuntimeException e) {
                // racing the deleter: directories disappear under the walk
            }
        });
        TreeDeleter.Result result = delete(root.getFileName());
        competitor.join();
        assertThat(result.complete()).isTrue();
        assertThat(root).doesNotExist();
    }

    @Test
    void aDirectoryThatKeepsFillingIsLeftForTheNextAttempt() throws Exception {
        Path root = tree("busy", 2, 50);
        Path busy = root.resolve("d0/nested");
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer = Thread.ofPlatform().start(() -> {
            int n = 0;
            while (!stop.get()) {
                try {
                    Files.writeString(busy.resolve("late" + n++), "x");
                }
                catch (IOException e) {
                    // the directory is gone: the deleter won this round
                }
            }
        });
        TreeDeleter.Result first;
        try {
            first = delete(root.getFileName());
        }
        finally {
            stop.set(true);
            writer.join();
        }
        assertThat(first.filesDeleted()).isPositive();
        TreeDeleter.Result second = delete(root.getFileName());
        assertThat(second.complete()).isTrue();
        assertThat(root).doesNotExist();
    }

}
