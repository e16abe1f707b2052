package dev.collab.ops;

import org.jspecify.annotations.Nullable;

/**
 * Thrown while starting when a setting cannot work (an unwritable directory, an
 * unreachable database). Its message is the one line an operator reads: what is wrong and
 * what to fix.
 */
public class StartupCheckException extends RuntimeException {

    private final String action;

    public StartupCheckException(String problem, String action, @Nullable Throwable cause) {
        super(problem, cause);
        this.action = action;
    }

    public StartupCheckException(String problem, String action) {
        this(problem, action, null);
    }

    /** What the operator should change. */
    public String action() {
        return action;
    }

}
