package dev.collab.support;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

import org.jspecify.annotations.Nullable;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.ClassPathResource;

/**
 * The tests' fake agents (single-file programs under src/test/resources/agents, JDK
 * only), compiled once per test JVM and started with {@code java -cp <classes> <Main>}.
 * The JDK's source launcher ({@code java Fake.java}) compiled them again at every start:
 * 1 to 4 s of CPU per agent process, which the fakes' many starts made minutes of CI time
 * (docs/performance.md, "CI time"). The compiled classes live in the JVM's temp directory
 * (removed when it exits), so that parallel forks never write into each other's.
 */
public final class FakeAgents {

    /** The JVM options of every fake: a short-lived process, quick to start. */
    private static final List<String> JVM_OPTIONS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    private static final Map<String, Path> COMPILED = new ConcurrentHashMap<>();

    /**
     * The placeholder of the fake Claude Code's command (collab.runner.command's value).
     */
    public static final String CLAUDE_CODE = "${collab.test.fake-claude-code-command}";

    /** The placeholder of the fake opencode's command (collab.runner.command's value). */
    public static final String OPENCODE = "${collab.test.fake-opencode-command}";

    /**
     * The main class of the fake opencode: in the command line of each of its processes.
     */
    public static final String OPENCODE_MAIN_CLASS = "FakeOpencode";

    private FakeAgents() {
    }

    /**
     * The fake Claude Code's command (src/test/resources/agents/claude-code), replaying
     * the transcripts of its directory: collab.runner.command's value, a comma-separated
     * list.
     */
    public static String claudeCodeCommand() {
        List<String> command = new ArrayList<>(command("agents/claude-code/FakeClaude.java"));
        command.addAll(List.of("--transcripts", resourceDirectory("agents/claude-code").toString()));
        return String.join(",", command);
    }

    /**
     * The fake {@code opencode serve}'s command line (src/test/resources/agents/opencode,
     * replaying transcript.sse) before opencode's own arguments.
     */
    public static List<String> opencodeCommand() {
        List<String> command = new ArrayList<>(command("agents/opencode/" + OPENCODE_MAIN_CLASS + ".java"));
        command
            .addAll(List.of("--transcript", resourceDirectory("agents/opencode").resolve("transcript.sse").toString()));
        return command;
    }

    /**
     * The values of {@link #CLAUDE_CODE} and {@link #OPENCODE} for the test contexts
     * (CollabTestInitializer), computed when first read: a test class sets
     * collab.runner.command to a placeholder in its {@code @TestPropertySource}, so that
     * the classes with the same agent share one cached context (a
     * {@code @DynamicPropertySource} method of each class made one context per class).
     */
    static PropertySource<Object> propertySource() {
        return new PropertySource<>("collabTestFakeAgents", new Object()) {

            @Override
            public @Nullable Object getProperty(String name) {
                return switch (name) {
                    case "collab.test.fake-claude-code-command" -> claudeCodeCommand();
                    case "collab.test.fake-opencode-command" -> String.join(",", opencodeCommand());
                    default -> null;
                };
            }

        };
    }

    /** The java launcher of the JDK running the tests. */
    public static String java() {
        return ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /**
     * The directory of a test resource, for instance {@code agents/claude-code} (the
     * fake's transcripts).
     */
    public static Path resourceDirectory(String directory) {
        try {
            return new ClassPathResource(directory).getFile().toPath();
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The command line that starts the fake whose source is {@code source} (a test
     * resource such as {@code agents/claude-code/FakeClaude.java}, its class named as the
     * file), before its own arguments.
     */
    public static List<String> command(String source) {
        String file = source.substring(source.lastIndexOf('/') + 1);
        List<String> command = new ArrayList<>();
        command.add(java());
        command.addAll(JVM_OPTIONS);
        command.add("-cp");
        command.add(classes(source).toString());
        command.add(file.substring(0, file.length() - ".java".length()));
        return command;
    }

    /**
     * The directory of the compiled classes of {@code source}, compiled at the first
     * call.
     */
    public static Path classes(String source) {
        return COMPILED.computeIfAbsent(source, FakeAgents::compile);
    }

    private static Path compile(String source) {
        Path file;
        try {
            file = new ClassPathResource(source).getFile().toPath();
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path classes = TempDirectories.create("fake-agent-classes-");
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        if (compiler == null) {
            throw new IllegalStateException("the tests need a JDK (no Java compiler) to compile " + source);
        }
        StringWriter output = new StringWriter();
        // As the source launcher compiles it: the running JDK's release, no annotation
        // processing; warnings are not the tests' concern.
        try (StandardJavaFileManager files = compiler.getStandardFileManager(null, null, StandardCharsets.UTF_8)) {
            boolean compiled = compiler
                .getTask(output, files, null, List.of("-d", classes.toString(), "-proc:none", "-nowarn"), null,
                        files.getJavaFileObjects(file))
                .call();
            if (!compiled) {
                throw new IllegalStateException("compiling " + source + " failed:\n" + output);
            }
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return classes;
    }

}
