package dev.collab.run;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import dev.collab.CollabProperties;
import dev.collab.run.demo.DemoAgent;
import org.springframework.stereotype.Component;

/**
 * The command a run executes: {@code collab.runner.command} when set, otherwise the
 * protocol's default ({@code claude} for {@code claude-code}) or, for {@code text}, the
 * shipped demo agent, run as its own small JVM by the same Java that runs the server (so
 * it works wherever the server does, a JRE-only container included, with nothing else
 * installed).
 */
@Component
class AgentCommand {

    private static final String DEMO_AGENT = DemoAgent.class.getName();

    private final List<String> command;

    AgentCommand(RunnerProperties properties, CollabProperties collab, AgentProtocols protocols) {
        List<String> fallback = protocols.selected().defaultCommand();
        this.command = !properties.command().isEmpty() ? properties.command()
                : fallback.isEmpty() ? demoAgent(collab.dataDir()) : fallback;
    }

    List<String> command() {
        return command;
    }

    /**
     * Copies the compiled demo agent out of the application (which may be a nested JAR
     * that a plain {@code java -cp} cannot read) into {@code <data-dir>/agents}, its own
     * class path.
     */
    private static List<String> demoAgent(Path dataDir) {
        Path classPath = dataDir.resolve("agents");
        String classFile = DEMO_AGENT.replace('.', '/') + ".class";
        Path target = classPath.resolve(classFile);
        try (InputStream shipped = AgentCommand.class.getClassLoader().getResourceAsStream(classFile)) {
            if (shipped == null) {
                throw new IllegalStateException("The demo agent " + classFile + " is missing from this build");
            }
            Files.createDirectories(target.getParent());
            Files.copy(shipped, target, StandardCopyOption.REPLACE_EXISTING);
        }
        catch (IOException e) {
            throw new UncheckedIOException("Cannot install the demo agent under " + classPath, e);
        }
        String java = ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        return List.of(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", classPath.toString(),
                DEMO_AGENT);
    }

}
