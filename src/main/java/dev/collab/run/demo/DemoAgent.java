package dev.collab.run.demo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * collab-server's demo agent: reads the message on stdin and streams a reply word by
 * word, so a new user sees a live run at once. Point collab.runner.command at a real
 * agent for real work (docs/runner.md).
 *
 * <p>
 * It uses nothing but the JDK and is started as its own small JVM from a copy of this
 * class file (not as a source file), so it also runs on a JRE without a compiler, as in
 * the container.
 */
public class DemoAgent {

    public static void main(String[] args) throws IOException, InterruptedException {
        String message = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).strip();
        String session = System.getenv().getOrDefault("COLLAB_SESSION_ID", "?");
        String reply = "Hello! I am the demo agent of collab-server, running in session " + session + ". You said: \""
                + (message.length() > 200 ? message.substring(0, 200) + "…" : message)
                + "\". Configure collab.runner.command to run a real coding agent here.";
        for (String word : reply.split(" ")) {
            System.out.print(word + " ");
            System.out.flush();
            Thread.sleep(40);
        }
        System.out.println();
    }

}
