package dev.collab.run;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.springframework.stereotype.Component;

/**
 * {@code collab.runner.protocol=text}, the default: the message on stdin, then end of
 * file; stdout and stderr become {@code output} events as they are, no typed events, no
 * conversation kept between runs (each message starts the agent afresh).
 */
@Component
class TextProtocol implements AgentProtocol {

    static final String NAME = "text";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<String> defaultCommand() {
        return List.of(); // the demo agent
    }

    @Override
    public AgentConversation open(Conversation conversation) {
        return new AgentConversation() {

            @Override
            public void started(Process process) {
                Thread.ofVirtual()
                    .name("run-stdin-" + conversation.runId())
                    .start(() -> feed(process, conversation.message()));
            }

            @Override
            public void readStdout(InputStream stdout) {
                AgentOutputReader.readAll(stdout, text -> conversation.output().output("stdout", text));
            }

        };
    }

    private static void feed(Process process, String message) {
        try (OutputStream stdin = process.getOutputStream()) {
            stdin.write(message.getBytes(StandardCharsets.UTF_8));
        }
        catch (IOException e) {
            // The agent did not read its input (or exited early): not an error of the
            // run.
        }
    }

}
