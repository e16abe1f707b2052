package dev.collab.database;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Unpacks the shipped PostgreSQL binaries with the system's {@code tar} and {@code xz}
 * before the library would unpack them with its Java xz decoder, which is the slowest
 * step of a first start (about 2.7 s of a 5 s boot on 2 cores; docs/performance.md). It
 * fills the directory the library uses ({@code PG-<md5 of the archive>}) and writes its
 * completion marker last; the library then finds the binaries ready. Anything unusual (no
 * tar, another platform, an error) leaves the directory as it was and the library unpacks
 * as always.
 */
final class NativeBinaryExtraction {

    private static final Logger log = LoggerFactory.getLogger(NativeBinaryExtraction.class);

    /** The library's marker of a completely unpacked directory. */
    private static final String READY_MARKER = ".exists";

    private NativeBinaryExtraction() {
    }

    /**
     * @return the directory the library uses for these binaries ({@code PG-<md5>}, filled
     * by now or by the library), or null when that is not known here (another platform,
     * no archive)
     */
    static @Nullable Path prepare(Path binariesDirectory) {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (!os.contains("linux")) {
            return null;
        }
        @Nullable Path target = null;
        String arch = System.getProperty("os.arch");
        try (InputStream archive = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary("Linux",
                "amd64".equals(arch) ? "x86_64" : arch)) {
            byte[] bytes = archive.readAllBytes();
            target = binariesDirectory.resolve("PG-" + md5(bytes));
            if (Files.exists(target.resolve(READY_MARKER))) {
                return target;
            }
            long started = System.nanoTime();
            if (!unpack(bytes, target, List.of("tar", "-xJf", "-", "-C", target.toString()))) {
                return target;
            }
            Files.createFile(target.resolve(READY_MARKER));
            log.info("Unpacked the PostgreSQL binaries with tar in {} ms",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        }
        catch (IOException | RuntimeException e) {
            log.debug("Native unpacking skipped ({}); the library unpacks the binaries", e.toString());
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return target;
    }

    /**
     * Feeds the archive to the unpacking command. However that ends other than in success
     * (the command stops reading, fails, hangs, or this thread is interrupted), the
     * process is destroyed and the half-filled directory removed, so neither outlives the
     * attempt.
     * @return true when the command unpacked the archive into {@code target}
     */
    static boolean unpack(byte[] archive, Path target, List<String> command) throws IOException, InterruptedException {
        deleteRecursively(target);
        Files.createDirectories(target);
        Process tar = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
        boolean unpacked = false;
        try {
            try (OutputStream in = tar.getOutputStream()) {
                in.write(archive);
            }
            unpacked = tar.waitFor(60, TimeUnit.SECONDS) && tar.exitValue() == 0;
            return unpacked;
        }
        finally {
            if (!unpacked) {
                tar.destroyForcibly();
                try {
                    tar.waitFor(10, TimeUnit.SECONDS); // dead before its directory goes
                }
                catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                deleteRecursively(target);
            }
        }
    }

    private static String md5(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
        }
        catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteRecursively(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

}
