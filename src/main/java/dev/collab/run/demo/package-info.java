/**
 * The shipped demo agent: a main class that reads the message on stdin and replies word
 * by word, so a new installation shows a live run without any agent installed.
 * <p>
 * Internal to {@code run} (Spring Modulith treats a module's sub-packages as internal):
 * only {@code AgentCommand} refers to it, to find its class file and copy it out; it then
 * runs as its own JVM, never inside the server. It must use nothing but the JDK (no
 * Spring, no other module), because that process has only this one class on its class
 * path.
 */
@NullMarked
package dev.collab.run.demo;

import org.jspecify.annotations.NullMarked;
