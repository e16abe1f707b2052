package dev.collab.event;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.UUID;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.json.JsonMapper;

/**
 * The append-only event log of every session, in PostgreSQL.
 *
 * <p>
 * An append bumps {@code sessions.head_seq} and {@code last_activity_at} and inserts the
 * event with the new seq in one statement: the session row stays locked until the
 * transaction ends, so seqs are gap-free and in commit order per session whatever the
 * number of writers and instances. After the commit, streams here and on other instances
 * are told (ids only).
 */
@Service
public class EventLog {

    private final JdbcClient jdbc;

    private final JsonMapper json;

    private final Clock clock;

    private final List<AppendObserver> observers;

    private final GroupCommit groupCommit;

    private final TransactionTemplate transaction;

    private final Counter appended;

    EventLog(JdbcClient jdbc, JsonMapper json, Clock clock, List<AppendObserver> observers, GroupCommit groupCommit,
            PlatformTransactionManager transactions, MeterRegistry registry) {
        this.jdbc = jdbc;
        this.groupCommit = groupCommit;
        this.transaction = new TransactionTemplate(transactions);
        this.json = json;
        this.clock = clock;
        this.observers = List.copyOf(observers);
        this.appended = Counter.builder("collab.events.appended")
            .description("Events appended to session logs")
            .register(registry);
    }

    /**
     * Appends an event to the session's log: in the caller's transaction when there is
     * one, otherwise committed before this returns, together with other appends waiting
     * at the same moment ({@link GroupCommit}).
     * @return the appended event, with its seq
     * @throws IllegalArgumentException when there is no such session
     * @throws LogClosedException when the session's log is closed
     */
    public Event append(UUID sessionId, String type, Map<String, ?> data) {
        OffsetDateTime now = clock.instant().truncatedTo(ChronoUnit.MICROS).atOffset(ZoneOffset.UTC);
        String payload = json.writeValueAsString(withoutNul(data));
        boolean closing = Event.SESSION_ENDED.equals(type);
        Event event;
        if (closing || TransactionSynchronizationManager.isActualTransactionActive()) {
            // Joins the caller's transaction, and marks it rollback-only if the append
            // fails.
            event = transaction.execute(status -> appendInTransaction(sessionId, type, payload, now, closing));
        }
        else {
            event = groupCommit.append(new GroupCommit.Append(sessionId, type, payload, now),
                    () -> appendAlone(sessionId, type, payload, now));
        }
        appended.increment();
        return event;
    }

    /**
     * An event to append with {@link #appendAll}.
     *
     * @param type the event type
     * @param data its data
     */
    public record NewEvent(String type, Map<String, ?> data) {
    }

    /**
     * Appends several events to one session's log, in the given order, with consecutive
     * seqs, in ONE statement: all of them or none (a retry never repeats part of them),
     * and one round trip to PostgreSQL instead of one per event. An agent's structured
     * output comes as many small events (a line each); appended one by one, each waits
     * for its own round trip (docs/performance.md, "Agent protocols").
     * @return the appended events, in order
     * @throws IllegalArgumentException when there is no such session, or for
     * {@code session.ended} (which closes the log: {@link #append} only)
     * @throws LogClosedException when the session's log is closed
     */
    public List<Event> appendAll(UUID sessionId, List<NewEvent> events) {
        if (events.isEmpty()) {
            return List.of();
        }
        OffsetDateTime now = clock.instant().truncatedTo(ChronoUnit.MICROS).atOffset(ZoneOffset.UTC);
        String[] types = new String[events.size()];
        String[] payloads = new String[events.size()];
        for (int i = 0; i < events.size(); i++) {
            if (Event.SESSION_ENDED.equals(events.get(i).type())) {
                throw new IllegalArgumentException("session.ended is appended alone");
            }
            types[i] = events.get(i).type();
            payloads[i] = json.writeValueAsString(withoutNul(events.get(i).data()));
        }
        List<Event> appendedEvents;
        if (TransactionSynchronizationManager.isActualTransactionActive()) {
            appendedEvents = transaction.execute(status -> insertAll(sessionId, types, payloads, now));
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCommit() {
                    appendedEvents.forEach(EventLog.this::tellObservers);
                }
            });
        }
        else {
            // One statement, its own transaction (autocommit): committed when it returns.
            appendedEvents = insertAll(sessionId, types, payloads, now);
            appendedEvents.forEach(this::tellObservers);
        }
        appended.increment(appendedEvents.size());
        return appendedEvents;
    }

    private List<Event> insertAll(UUID sessionId, String[] types, String[] payloads, OffsetDateTime now) {
        @SuppressWarnings("NullAway") // a single-column query's rows are @Nullable to
                                      // Spring; events.seq is NOT NULL
        List<Long> seqs = jdbc.sql("""
                with bumped as (
                    update sessions
                       set head_seq = head_seq + :count, last_activity_at = greatest(last_activity_at, :now),
                           notable_count = notable_count
                               + (select count(*) from unnest(cast(:types as text[])) as t(type)
                                   where t.type in\s""" + Event.NOTABLE_TYPES_SQL + """
                                 )
                     where id = :id and not log_closed
                    returning id, head_seq
                )
                insert into events (session_id, seq, type, data, created_at)
                select bumped.id, bumped.head_seq - :count + item.ordinality, item.type, cast(item.data as jsonb), :now
                  from bumped, unnest(cast(:types as text[]), cast(:payloads as text[]))
                       with ordinality as item(type, data, ordinality)
                returning seq
                """)
            .param("id", sessionId)
            .param("now", now)
            .param("count", types.length)
            .param("types", types)
            .param("payloads", payloads)
            .query(Long.class)
            .list();
        // RETURNING's order is not the insert's: the i-th seq is the i-th event.
        List<Long> ordered = seqs.stream().sorted().toList();
        List<Event> events = new java.util.ArrayList<>(ordered.size());
        for (int i = 0; i < ordered.size(); i++) {
            events.add(new Event(ordered.get(i), sessionId, types[i], now.toInstant(), payloads[i]));
        }
        if (events.isEmpty()) {
            if (head(sessionId).isPresent()) {
                throw new LogClosedException(sessionId);
            }
            throw new IllegalArgumentException("No session " + sessionId);
        }
        return events;
    }

    private Event appendInTransaction(UUID sessionId, String type, String payload, OffsetDateTime now,
            boolean closing) {
        Event event = insert(sessionId, type, payload, now, closing);
        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
            @Override
            public void afterCommit() {
                tellObservers(event);
            }
        });
        return event;
    }

    /**
     * Outside a transaction the one statement is its own transaction (the pool's
     * autocommit): committed, and its WAL flushed, when it returns. That is one round
     * trip to PostgreSQL instead of two (statement, then commit); each one waits for
     * PostgreSQL's process to be scheduled, which is most of an append's time while the
     * cores stream the previous events (docs/performance.md).
     */
    private Event appendAlone(UUID sessionId, String type, String payload, OffsetDateTime now) {
        Event event = insert(sessionId, type, payload, now, false);
        tellObservers(event);
        return event;
    }

    private void tellObservers(Event event) {
        for (AppendObserver observer : observers) {
            observer.appended(event);
        }
    }

    /**
     * Moves the head and inserts the event in one statement; the row stays locked until
     * the transaction ends.
     */
    private Event insert(UUID sessionId, String type, String payload, OffsetDateTime now, boolean closing) {
        @SuppressWarnings("NullAway") // a single-column query's rows are @Nullable to
                                      // Spring; events.seq is NOT NULL
        List<Long> seq = jdbc.sql("""
                with bumped as (
                    update sessions
                       set head_seq = head_seq + 1, last_activity_at = greatest(last_activity_at, :now),
                           log_closed = log_closed or :closing,
                           notable_count = notable_count + case when :type in\s""" + Event.NOTABLE_TYPES_SQL + """
                                                                then 1 else 0 end
                     where id = :id and not log_closed
                    returning id, head_seq
                )
                insert into events (session_id, seq, type, data, created_at)
                select id, head_seq, :type, cast(:data as jsonb), :now from bumped
                returning seq
                """)
            .param("id", sessionId)
            .param("now", now)
            .param("type", type)
            .param("data", payload)
            .param("closing", closing)
            .query(Long.class)
            .list();
        if (seq.isEmpty()) {
            if (head(sessionId).isPresent()) {
                throw new LogClosedException(sessionId);
            }
            throw new IllegalArgumentException("No session " + sessionId);
        }
        return new Event(seq.getFirst(), sessionId, type, now.toInstant(), payload);
    }

    /**
     * PostgreSQL's jsonb cannot hold U+0000 (agents do print it: binary output,
     * {@code -print0}): it becomes U+FFFD in the log, in every string of the payload.
     */
    private static Object withoutNul(Object value) {
        if (value instanceof String text) {
            return text.indexOf('\u0000') < 0 ? text : text.replace('\u0000', '\uFFFD');
        }
        if (value instanceof Map<?, ?> map) {
            Map<Object, Object> copy = new java.util.LinkedHashMap<>();
            map.forEach((key, item) -> copy.put(key, withoutNul(item)));
            return copy;
        }
        if (value instanceof java.util.Collection<?> items) {
            return items.stream().map(EventLog::withoutNul).toList();
        }
        if (value instanceof tools.jackson.databind.JsonNode node) {
            // An agent's tool input (tool.call, approval.requested) arrives as a JSON
            // tree:
            // its strings, names included, may carry U+0000 too.
            return withoutNul(node);
        }
        return value;
    }

    private static tools.jackson.databind.JsonNode withoutNul(tools.jackson.databind.JsonNode node) {
        if (node.isString()) {
            String text = node.asString();
            return text.indexOf('\u0000') < 0 ? node
                    : tools.jackson.databind.node.JsonNodeFactory.instance.stringNode(text.replace('\u0000', '\uFFFD'));
        }
        if (node.isObject()) {
            var copy = tools.jackson.databind.node.JsonNodeFactory.instance.objectNode();
            node.properties()
                .forEach(
                        member -> copy.set(member.getKey().replace('\u0000', '\uFFFD'), withoutNul(member.getValue())));
            return copy;
        }
        if (node.isArray()) {
            var copy = tools.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
            node.forEach(item -> copy.add(withoutNul(item)));
            return copy;
        }
        return node;
    }

    /** Events with {@code seq > after}, ascending, at most {@code limit}. */
    public List<Event> read(UUID sessionId, long after, int limit) {
        return jdbc.sql("""
                select session_id, seq, type, data::text as data, created_at from events
                where session_id = :id and seq > :after order by seq limit :limit
                """).param("id", sessionId).param("after", after).param("limit", limit).query(EventLog::map).list();
    }

    /** Events with {@code after < seq <= upTo}, ascending. */
    public List<Event> readRange(UUID sessionId, long after, long upTo) {
        return jdbc.sql("""
                select session_id, seq, type, data::text as data, created_at from events
                where session_id = :id and seq > :after and seq <= :upTo order by seq
                """).param("id", sessionId).param("after", after).param("upTo", upTo).query(EventLog::map).list();
    }

    /**
     * The session's last {@code count} events, ascending: what a stream hub keeps in
     * memory of a watched session (read once for all the session's streams).
     */
    public List<Event> latest(UUID sessionId, int count) {
        List<Event> newestFirst = jdbc.sql("""
                select session_id, seq, type, data::text as data, created_at from events
                where session_id = :id order by seq desc limit :count
                """).param("id", sessionId).param("count", count).query(EventLog::map).list();
        return newestFirst.reversed();
    }

    /** The session's head seq and state, or empty for an unknown session. */
    public OptionalLong head(UUID sessionId) {
        return jdbc.sql("select head_seq from sessions where id = :id")
            .param("id", sessionId)
            .query(Long.class)
            .optional()
            .map(OptionalLong::of)
            .orElse(OptionalLong.empty());
    }

    /** Head seq and whether the session has ended, in one read. */
    public java.util.Optional<SessionHead> sessionHead(UUID sessionId) {
        return jdbc.sql("select head_seq, state = 'ENDED' as ended from sessions where id = :id")
            .param("id", sessionId)
            .query((rs, row) -> new SessionHead(rs.getLong("head_seq"), rs.getBoolean("ended")))
            .optional();
    }

    public record SessionHead(long headSeq, boolean ended) {
    }

    /**
     * The session's project and head seq, in one primary-key read: what a reader needs to
     * ask whether the caller may read the session.
     */
    public java.util.Optional<SessionOfProject> sessionOfProject(UUID sessionId) {
        return jdbc.sql("select project_key, head_seq from sessions where id = :id")
            .param("id", sessionId)
            .query((rs, row) -> new SessionOfProject(rs.getString("project_key"), rs.getLong("head_seq")))
            .optional();
    }

    public record SessionOfProject(String project, long headSeq) {
    }

    private static Event map(ResultSet rs, int row) throws SQLException {
        return new Event(rs.getLong("seq"), rs.getObject("session_id", UUID.class), rs.getString("type"),
                rs.getObject("created_at", OffsetDateTime.class).toInstant(), rs.getString("data"));
    }

}
