package dev.collab.run;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import dev.collab.CollabProperties;
import org.springframework.stereotype.Component;

/**
 * The command a run executes: {@code collab.runner.command} when set, otherwise the shipped demo
 * agent, run as a single-file Java program by the same Java that runs the server (so it works
 * wherever the server does, with nothing else installed).
 */
@Component
class AgentCommand {

    private final List<String> command;

    AgentCommand(RunnerProperties properties, CollabProperties collab) {
        this.command = properties.command().isEmpty() ? demoAgent(collab.dataDir()) : properties.command();
    }

    List<String> command() {
        return command;
    }

    private static List<String> demoAgent(Path dataDir) {
        Path source = dataDir.resolve("agents").resolve("DemoAgent.java");
        try (InputStream shipped = AgentCommand.class.getResourceAsStream("/agents/DemoAgent.java")) {
            Files.createDirectories(source.getParent());
            Files.copy(shipped, source, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot install the demo agent under " + source.getParent(), e);
        }
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        return List.of(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", source.toString());
    }
}
