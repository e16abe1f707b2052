package dev.collab.ops;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import dev.collab.support.ServerProcess;
import dev.collab.support.TempDirectories;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A configuration that cannot work stops the server with one clear line and a non-zero
 * exit.
 */
class StartupFailureProcessIT {

    /** What is left of the built-in database after the failed start. */
    enum Afterwards {

        /** It had started and was stopped with the failed start. */
        BUILT_IN_DATABASE_STOPPED,
        /** It never started (team mode, or a failure before the database). */
        NO_BUILT_IN_DATABASE

    }

    /**
     * One misconfiguration: the environment and arguments the server gets (made in its
     * data directory), the lines it must print, and a secret it must not print (or null).
     */
    record Misconfiguration(String name, Map<String, String> env, Function<Path, List<String>> args,
            Function<Path, List<String>> says, String secret, Afterwards afterwards) {

        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Misconfiguration> misconfigurations() {
        return Stream.of(
                new Misconfiguration("unwritable workspace root", Map.of(),
                        dataDir -> List.of("--collab.workspace.root=" + aFile(dataDir).resolve("workspaces")),
                        dataDir -> List.of("Cannot create directory " + dataDir.resolve("not-a-directory/workspaces"),
                                "Set collab.workspace.root to a directory"),
                        null, Afterwards.BUILT_IN_DATABASE_STOPPED),
                new Misconfiguration("unreachable team database", Map.of(),
                        dataDir -> List
                            .of("--spring.datasource.url=jdbc:postgresql://127.0.0.1:1/collab?password=hunter2"),
                        dataDir -> List.of("Cannot connect to the database at jdbc:postgresql://127.0.0.1:1/collab:",
                                "Check spring.datasource.url"),
                        "hunter2", Afterwards.NO_BUILT_IN_DATABASE),
                new Misconfiguration("a pool without autocommit", Map.of(),
                        dataDir -> List.of("--spring.datasource.hikari.auto-commit=false"),
                        dataDir -> List.of("spring.datasource.hikari.auto-commit is false",
                                "Remove spring.datasource.hikari.auto-commit"),
                        null, Afterwards.BUILT_IN_DATABASE_STOPPED),
                new Misconfiguration("unknown log format", Map.of("LOG_FORMAT", "xml"), dataDir -> List.of(),
                        dataDir -> List.of("LOG_FORMAT is 'xml', which is not a log format: use json or text.",
                                "Set LOG_FORMAT to json"),
                        null, Afterwards.NO_BUILT_IN_DATABASE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("misconfigurations")
    void failsWithOneClearLine(Misconfiguration misconfiguration) {
        Path dataDir = TempDirectories.create("startup-failure-");
        try (ServerProcess server = ServerProcess.start(misconfiguration.env(), dataDir,
                misconfiguration.args().apply(dataDir).toArray(String[]::new))) {
            int exit = server.awaitExit(Duration.ofSeconds(120));
            String output = server.output();
            assertThat(exit).isNotZero();
            assertThat(output).contains(misconfiguration.says().apply(dataDir));
            assertThat(output).as("no stack trace").doesNotContain("\tat ");
            if (misconfiguration.secret() != null) {
                assertThat(output).doesNotContain(misconfiguration.secret());
            }
            switch (misconfiguration.afterwards()) {
                case BUILT_IN_DATABASE_STOPPED ->
                    assertThat(server.postmaster()).as("the built-in database stopped with the failed start").isEmpty();
                case NO_BUILT_IN_DATABASE ->
                    assertThat(Files.exists(dataDir.resolve("postgres"))).as("no built-in database was started")
                        .isFalse();
            }
        }
    }

    /** A file where the workspace root's parent directory should be. */
    private static Path aFile(Path dataDir) {
        try {
            return Files.writeString(dataDir.resolve("not-a-directory"), "x");
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

}
