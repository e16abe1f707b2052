package dev.collab.workspace;

import java.util.Collection;
import java.util.Set;
import java.util.UUID;

/**
 * What the sweeper needs to know about sessions, implemented by the session feature (so
 * that workspaces do not depend on sessions).
 */
public interface WorkspaceOwners {

    /** The ids among these that belong to sessions that are IDLE or RUNNING. */
    Set<UUID> live(Collection<UUID> ids);

    /**
     * The ids among these that belong to a session in any state. Session rows are never
     * deleted, so in a healthy installation almost every workspace directory is known;
     * one that is not is either a crash leftover or a sign of a wrong or older database.
     */
    Set<UUID> known(Collection<UUID> ids);

}
