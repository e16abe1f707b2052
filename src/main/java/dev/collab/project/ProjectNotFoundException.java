package dev.collab.project;

/** There is no project with this key (answered as {@code 404 not-found}). */
public class ProjectNotFoundException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String key;

    public ProjectNotFoundException(String key) {
        // No stack trace: an expected outcome of a request, never logged as a fault.
        super("No project '" + key + "'.", null, false, false);
        this.key = key;
    }

    public String key() {
        return key;
    }

}
