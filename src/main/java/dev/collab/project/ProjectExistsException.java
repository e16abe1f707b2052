package dev.collab.project;

/**
 * A create-only save found the project with other settings (answered as
 * {@code 409 project-exists}).
 */
public class ProjectExistsException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String key;

    ProjectExistsException(String key) {
        super("Project '" + key + "' exists with other settings.", null, false, false);
        this.key = key;
    }

    public String key() {
        return key;
    }

}
