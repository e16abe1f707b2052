package dev.collab.database;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import dev.collab.support.TempDirectories;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An unpacking process that stops reading its input is destroyed, and leaves no half
 * directory.
 */
class NativeBinaryExtractionTest {

    @Test
    void aTarThatStopsReadingIsDestroyedAndItsDirectoryRemoved() {
        Path target = TempDirectories.create("unpack-").resolve("PG-test");
        // A unique sleep length marks the process; it closes its stdin at once, so the
        // write fails.
        String marker = "2999." + Math.abs(UUID.randomUUID().getMostSignificantBits() % 1_000_000);
        List<String> command = List.of("sh", "-c", "exec 0<&-; exec sleep " + marker);

        assertThatThrownBy(() -> NativeBinaryExtraction.unpack(new byte[8 * 1024 * 1024], target, command))
            .isInstanceOf(IOException.class);

        assertThat(ProcessHandle.current()
            .children()
            .filter(child -> child.info().commandLine().orElse("").contains(marker))
            .filter(ProcessHandle::isAlive)).as("the process that stopped reading is not left running").isEmpty();
        assertThat(Files.exists(target)).isFalse();
    }

    @Test
    void aFailingTarLeavesNoDirectory() throws Exception {
        Path target = TempDirectories.create("unpack-").resolve("PG-test");
        assertThat(NativeBinaryExtraction.unpack("not an archive".getBytes(), target,
                List.of("tar", "-xJf", "-", "-C", target.toString())))
            .isFalse();
        assertThat(Files.exists(target)).isFalse();
    }

}
