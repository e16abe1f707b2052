package dev.collab.message;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.collab.access.Audit;
import dev.collab.access.CurrentUser;
import dev.collab.access.ProjectAccess;
import dev.collab.access.Role;
import dev.collab.event.Event;
import dev.collab.event.EventLog;
import dev.collab.project.Project;
import dev.collab.project.Projects;
import dev.collab.run.AgentRunner;
import dev.collab.run.Runs;
import dev.collab.session.Session;
import dev.collab.session.SessionBusyException;
import dev.collab.session.SessionEndedException;
import dev.collab.session.SessionNotFoundException;
import dev.collab.session.SessionState;
import dev.collab.session.Sessions;
import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import tools.jackson.databind.json.JsonMapper;

/**
 * A send, in one transaction: claim the Idempotency-Key, lock the session's row, then
 * either flip the session IDLE → RUNNING, append {@code message} and {@code run.started}
 * and record the run with its lease, or, when a run is in progress, queue the message
 * ({@code message.queued}; the project's {@code queue} busy policy) or refuse it
 * ({@code 409 session-busy}; {@code reject}); store the answer under the key. The agent
 * starts after the commit. Nothing is appended unless all of it commits.
 */
@Service
class Sends {

    private final JdbcClient jdbc;

    private final Sessions sessions;

    private final EventLog eventLog;

    private final Runs runs;

    private final AgentRunner runner;

    private final JsonMapper json;

    private final Clock clock;

    private final ProjectAccess access;

    private final Audit audit;

    private final Projects projects;

    private final MessageQueue queue;

    Sends(JdbcClient jdbc, Sessions sessions, EventLog eventLog, Runs runs, AgentRunner runner, JsonMapper json,
            Clock clock, ProjectAccess access, Audit audit, Projects projects, MessageQueue queue) {
        this.projects = projects;
        this.queue = queue;
        this.access = access;
        this.audit = audit;
        this.jdbc = jdbc;
        this.sessions = sessions;
        this.eventLog = eventLog;
        this.runs = runs;
        this.runner = runner;
        this.json = json;
        this.clock = clock;
    }

    /**
     * The answer to a send, and whether it is the stored first answer to the same key.
     */
    record Sent(Map<String, Object> body, boolean replayed) {
    }

    @Transactional
    Sent send(UUID sessionId, @Nullable String idempotencyKey, NewMessage message) {
        // Sending is a member's (a non-member gets the 404 of an unknown session).
        sessions.require(sessionId, Role.MEMBER);
        CurrentUser caller = access.currentUser();
        String fingerprint = fingerprint(message.text(), caller.id());
        if (idempotencyKey != null) {
            // Racing retries (any instance) wait here on the primary key until the first
            // commits or rolls back.
            int claimed = jdbc.sql("""
                    insert into idempotency_keys (session_id, key, fingerprint, created_at)
                    select :session, :key, :fingerprint, :now where exists (select 1 from sessions where id = :session)
                    on conflict (session_id, key) do nothing
                    """)
                .param("session", sessionId)
                .param("key", idempotencyKey)
                .param("fingerprint", fingerprint)
                .param("now", clock.instant().atOffset(ZoneOffset.UTC))
                .update();
            if (claimed == 0) {
                return replay(sessionId, idempotencyKey, fingerprint, message);
            }
        }
        UUID runId = UUID.randomUUID();
        UUID messageId = UUID.randomUUID();
        // The row lock first: a run that ends meanwhile (Runs.finish takes it too)
        // either ended before (IDLE: this send starts its run) or waits for this commit
        // (and then starts what this send queued).
        Session session = sessions.lock(sessionId).orElseThrow(() -> new SessionNotFoundException(sessionId));
        SessionState state = session.state();
        // Messages waiting in an IDLE session (their run ended on an instance that was
        // stopping; the lease check would start them within a tick) were accepted before
        // this one: the next of them starts now, and this send meets a busy session.
        if (state == SessionState.IDLE && queue.startNext(sessionId)) {
            state = SessionState.RUNNING;
        }
        switch (state) {
            case ENDED ->
                throw new SessionEndedException(sessionId, "Session " + sessionId + " has ended; start a new session.");
            case RUNNING -> {
                if (!projects.find(session.project()).map(Project::queuesWhileBusy).orElse(false)) {
                    throw new SessionBusyException(sessionId, state == session.state() ? session.currentRunId()
                            : sessions.find(sessionId).map(Session::currentRunId).orElse(null));
                }
                return queued(sessionId, idempotencyKey, messageId, message.text(), caller);
            }
            case IDLE -> {
            }
        }
        switch (sessions.startRun(sessionId, runId)) {
            case Sessions.RunClaim.NotFound notFound -> throw new SessionNotFoundException(sessionId);
            case Sessions.RunClaim.Ended ended ->
                throw new SessionEndedException(sessionId, "Session " + sessionId + " has ended; start a new session.");
            case Sessions.RunClaim.Busy busy -> throw new SessionBusyException(sessionId, busy.runId());
            case Sessions.RunClaim.Claimed claimed -> {
            }
        }
        Map<String, Object> messageData = new LinkedHashMap<>();
        messageData.put("messageId", messageId.toString());
        messageData.put("text", message.text());
        // The caller, never the body: a body's author is ignored.
        messageData.put("author", caller.login());
        Event appended = eventLog.append(sessionId, "message", messageData);
        eventLog.append(sessionId, "run.started",
                Map.of("runId", runId.toString(), "messageId", messageId.toString(), "by", caller.login()));
        runs.insert(runId, sessionId, messageId);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("messageId", messageId);
        body.put("runId", runId);
        body.put("seq", appended.seq());
        body.put("queued", false);
        store(sessionId, idempotencyKey, body);
        // The ids only: the text is the users' and the agent's, not the audit log's.
        audit.record("message.sent", "session:" + sessionId,
                Map.of("messageId", messageId.toString(), "runId", runId.toString()));
        String text = message.text();
        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
            @Override
            public void afterCommit() {
                runner.launch(runId, sessionId, text);
            }
        });
        return new Sent(body, false);
    }

    /** The send to a busy session of a project that queues: it waits for its turn. */
    private Sent queued(UUID sessionId, @Nullable String idempotencyKey, UUID messageId, String text,
            CurrentUser caller) {
        MessageQueue.Queued queued = queue.enqueue(sessionId, messageId, text, caller);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("messageId", messageId);
        body.put("queued", true);
        body.put("position", queued.position());
        body.put("seq", queued.seq());
        store(sessionId, idempotencyKey, body);
        audit.record("message.queued", "session:" + sessionId, Map.of("messageId", messageId.toString()));
        return new Sent(body, false);
    }

    private void store(UUID sessionId, @Nullable String idempotencyKey, Map<String, Object> body) {
        if (idempotencyKey != null) {
            jdbc.sql(
                    "update idempotency_keys set response = cast(:response as jsonb) where session_id = :session and key = :key")
                .param("response", json.writeValueAsString(body))
                .param("session", sessionId)
                .param("key", idempotencyKey)
                .update();
        }
    }

    private Sent replay(UUID sessionId, String key, String fingerprint, NewMessage message) {
        List<Stored> stored = jdbc.sql("""
                select fingerprint, response::text as response from idempotency_keys
                where session_id = :session and key = :key
                """)
            .param("session", sessionId)
            .param("key", key)
            .query((rs, row) -> new Stored(rs.getString("fingerprint"), rs.getString("response")))
            .list();
        if (stored.isEmpty()) {
            throw new SessionNotFoundException(sessionId);
        }
        String first = stored.getFirst().fingerprint();
        // Or a row the previous version wrote (during a rolling deploy, or up to the
        // purge after it): its fingerprint is of the text and the body's author, which
        // clients still send. Such a row names no user, so it replays as it did then.
        if (!first.equals(fingerprint) && !(message.author() instanceof String author
                && first.equals(legacyFingerprint(message.text(), author)))) {
            throw new IdempotencyKeyReusedException();
        }
        @SuppressWarnings("unchecked") // the stored response is the JSON object this
                                       // class wrote (a map)
        Map<String, Object> body = json.readValue(stored.getFirst().response(), LinkedHashMap.class);
        // An answer stored by the previous version, which queued nothing.
        body.putIfAbsent("queued", false);
        return new Sent(body, true);
    }

    private record Stored(String fingerprint, String response) {
    }

    /**
     * SHA-256 over what makes two sends the same, unambiguous (length-prefixed), whatever
     * the JSON formatting: the text and the caller. Not the body's author, which is
     * ignored. The caller is in it because a key is per session, and another user who
     * sends with the same key must never get the first user's answer as theirs: theirs is
     * a different send, so {@code 422 idempotency-key-reused}.
     */
    static String fingerprint(String text, UUID caller) {
        return sha256(text, caller.toString());
    }

    /**
     * The previous version's fingerprint: the text and the body's author (then required).
     */
    static String legacyFingerprint(String text, String author) {
        return sha256(text, author);
    }

    private static String sha256(String... fields) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (String field : fields) {
                byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
                digest.update((bytes.length + ":").getBytes(StandardCharsets.US_ASCII));
                digest.update(bytes);
            }
            return HexFormat.of().formatHex(digest.digest());
        }
        catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

}
