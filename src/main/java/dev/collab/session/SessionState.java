package dev.collab.session;

/**
 * Life cycle of a session: IDLE ⇄ RUNNING while a run is in progress, then ENDED for
 * good.
 */
public enum SessionState {

    IDLE, RUNNING, ENDED

}
