package dev.collab.session;

import java.time.Instant;
import java.util.UUID;

import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;

/**
 * A session's JSON as a caller sees it: its row ({@link Session}) and what other modules
 * add for that caller through {@link SessionDetails} (queue length, who is watching,
 * unread count). Built by {@link SessionViews}.
 *
 * @param queueLength messages waiting for the run in progress to end
 * @param presence who is watching the session now
 * @param unread notable events (messages, finished runs, approval requests) after the
 * caller's read position, at most {@link #MAX_UNREAD}
 * @param readSeq the caller's read position (0: nothing read)
 */
public record SessionView(UUID id, String project, @Schema(types = {
        "string", "null" }) @Nullable String title, SessionState state, Instant createdAt, Instant lastActivityAt,
        long headSeq, @Schema(types = { "string", "null" }, format = "uuid") @Nullable UUID currentRunId,
        int queueLength, SessionPresence presence, int unread, long readSeq){

    /** Unread counts stop here (a client shows "99+" past 99). */
    public static final int MAX_UNREAD = 100;

    /**
     * A view being filled in: the row, and the fields that {@link SessionDetails} set
     * (defaults: an empty queue, nobody watching, nothing unread).
     */
    public static final class Draft {

        private final Session session;

        private int queueLength;

        private SessionPresence presence = SessionPresence.NOBODY;

        private int unread;

        private long readSeq;

        Draft(Session session) {
            this.session = session;
        }

        public Session session() {
            return session;
        }

        public UUID id() {
            return session.id();
        }

        public void queueLength(int length) {
            this.queueLength = length;
        }

        public void presence(SessionPresence presence) {
            this.presence = presence;
        }

        /** Capped at {@link SessionView#MAX_UNREAD}. */
        public void unread(int unread) {
            this.unread = Math.min(unread, MAX_UNREAD);
        }

        public void readSeq(long readSeq) {
            this.readSeq = readSeq;
        }

        Draft copy() {
            Draft copy = new Draft(session);
            copy.queueLength = queueLength;
            copy.presence = presence;
            copy.unread = unread;
            copy.readSeq = readSeq;
            return copy;
        }

        SessionView build() {
            return new SessionView(session.id(), session.project(), session.title(), session.state(),
                    session.createdAt(), session.lastActivityAt(), session.headSeq(), session.currentRunId(),
                    queueLength, presence, unread, readSeq);
        }

    }

}
