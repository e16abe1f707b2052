package dev.collab.access;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;

import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Reads the audit log for {@code GET /api/audit}, newest first by the keyset
 * {@code (at, id)} (index {@code audit_log_at_idx}). The {@code details} column is never
 * read: it is for operators at the database, not for the API.
 */
@Component
class AuditLog {

    private static final RowMapper<Row> ROW = (rs, row) -> new Row(rs.getLong("id"),
            new Entry(rs.getObject("at", OffsetDateTime.class).toInstant(), rs.getString("actor"),
                    rs.getString("action"), rs.getString("target"), rs.getString("request_id"),
                    rs.getString("address")));

    /**
     * The columns of the answer. A failed or throttled login's target is the login as
     * typed, which may be a password typed into the wrong field: it is shown only when
     * such a user exists (the table keeps it for operators).
     */
    private static final String SELECT = """
            select a.id, a.at, a.actor, a.action, a.request_id, a.address,
                   case when a.action in ('login.failed', 'login.throttled')
                             and not (a.target like 'user:%'
                                      and exists (select 1 from users u where u.login = substr(a.target, 6)))
                        then null else a.target end as target
            from audit_log a
            """;

    private final JdbcClient jdbc;

    AuditLog(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * One page of at most {@code limit} entries after {@code after} (null: the newest).
     */
    Page page(@Nullable AuditCursor after, int limit) {
        // One row more than asked tells whether there is a next page.
        List<Row> rows = after == null
                ? jdbc.sql(SELECT + "order by at desc, id desc limit :limit")
                    .param("limit", limit + 1)
                    .query(ROW)
                    .list()
                : jdbc.sql(SELECT + "where (at, id) < (:at, :id) order by at desc, id desc limit :limit")
                    .param("at", after.at().atOffset(java.time.ZoneOffset.UTC))
                    .param("id", after.id())
                    .param("limit", limit + 1)
                    .query(ROW)
                    .list();
        List<Entry> items = rows.stream().limit(limit).map(Row::entry).toList();
        if (rows.size() <= limit) {
            return new Page(items, null);
        }
        Row last = rows.get(limit - 1);
        return new Page(items, new AuditCursor(last.entry().at(), last.id()).encode());
    }

    /** One page and the cursor of the next (null on the last page). */
    record Page(List<Entry> items, @Nullable String nextCursor) {
    }

    private record Row(long id, Entry entry) {
    }

    /** One audit row as the API shows it (without its id and details). */
    record Entry(Instant at, @Schema(types = {
            "string", "null" }) @Nullable String actor, String action,
            @Schema(types = { "string", "null" }) @Nullable String target,
            @Schema(types = { "string", "null" }) @Nullable String requestId,
            @Schema(types = { "string", "null" }) @Nullable String address){
    }

}
