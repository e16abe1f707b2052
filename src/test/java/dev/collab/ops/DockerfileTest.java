package dev.collab.ops;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Dockerfile cannot be built here (no Docker engine; CI builds it), so the promises
 * it makes that are easy to break by editing one line are checked as text: the AOT cache
 * is trained with the flags and JAR path the image runs with (or the JVM silently ignores
 * the cache), the user is not root, the base images are pinned to a Java major, and the
 * build leaves out the built-in PostgreSQL binaries.
 */
class DockerfileTest {

    private static String dockerfile;

    @BeforeAll
    static void read() throws IOException {
        dockerfile = Files.readString(Path.of("Dockerfile"));
    }

    @Test
    void theTrainingRunMatchesTheEntrypoint() {
        String training = between("FROM runtime AS training", "test -s");
        String entrypoint = between("ENTRYPOINT", "]");
        for (String flag : List.of("-XX:+UseG1GC", "-XX:MaxRAMPercentage=60", "/app/application.jar")) {
            assertThat(training).as("training run").contains(flag);
            assertThat(entrypoint).as("entrypoint").contains(flag);
        }
        Matcher output = Pattern.compile("-XX:AOTCacheOutput=(\\S+)").matcher(dockerfile);
        assertThat(output.find()).isTrue();
        assertThat(dockerfile).contains("COPY --from=training " + output.group(1))
            .contains("\"-XX:AOTCache=" + output.group(1) + "\"");
    }

    @Test
    void runsAsAnUnprivilegedUserUnderAnInit() {
        assertThat(dockerfile).containsPattern("(?m)^USER collab:collab$")
            .contains("--uid 10001")
            .contains("ENTRYPOINT [\"/usr/bin/tini\", \"--\"")
            .containsPattern("(?m)^EXPOSE 8080$")
            .containsPattern("(?m)^VOLUME \\[\"/workspaces\"\\]$")
            .contains("COLLAB_WORKSPACE_ROOT=/workspaces");
    }

    /** The runtime image clones projects' repositories (issue 15): git and ssh. */
    @Test
    void theRuntimeImageShipsGitAndSsh() {
        String runtime = between("AS runtime", "WORKDIR /app");
        assertThat(runtime).containsPattern("install -y --no-install-recommends [^\\n]*\\bgit\\b")
            .contains("openssh-client");
    }

    @Test
    void baseImagesArePinnedToJava25AndTheBuildIsTeamModeOnly() {
        assertThat(dockerfile).containsPattern("(?m)^FROM eclipse-temurin:25(\\.\\d+)*(_\\d+)?-jdk-\\w+ AS build$")
            .containsPattern("(?m)^FROM eclipse-temurin:25(\\.\\d+)*(_\\d+)?-jre-\\w+ AS runtime$")
            .contains("-Dteam-mode-only -Dmaven.test.skip=true package")
            .contains("cp target/collab-server-*.jar application.jar")
            .as("the extracted launcher JAR is named after the file extracted, and the entrypoint runs application.jar")
            .contains("java -Djarmode=tools -jar application.jar extract --layers");
    }

    private static String between(String start, String end) {
        int from = dockerfile.indexOf(start);
        assertThat(from).as("'%s' in the Dockerfile", start).isNotNegative();
        int to = dockerfile.indexOf(end, from + start.length());
        return dockerfile.substring(from, to);
    }

}
