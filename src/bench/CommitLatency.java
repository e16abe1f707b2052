import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Benchmark (issue 4): what one durable append costs PostgreSQL on this machine, without the
 * server around it, from a bare JDBC connection on a virtual thread (as the server's appends
 * run). Started by commit-latency.sh, which brings up a built-in PostgreSQL with collab's schema.
 *
 * <p>For each pause between appends (the fan-out benchmark appends every 50 ms, so the machine
 * idles in between), it measures the server's append statement in its three forms: in autocommit
 * (what a plain append does since it commits in its one statement), as statement then commit in
 * an explicit transaction (what it did before: two round trips), and, for comparison only,
 * with {@code synchronous_commit = off} (no WAL flush before the answer: not durable, never used
 * by the server), plus a one-row select (a round trip that writes nothing).
 *
 * <pre>java -cp postgresql.jar src/bench/CommitLatency.java jdbc-url user session-id [rounds]</pre>
 */
public class CommitLatency {

    private static final String APPEND = """
            with bumped as (
                update sessions set head_seq = head_seq + 1, last_activity_at = greatest(last_activity_at, now())
                 where id = ? and not log_closed
                returning id, head_seq
            )
            insert into events (session_id, seq, type, data, created_at)
            select id, head_seq, 'output', cast(? as jsonb), now() from bumped
            returning seq
            """;
    private static final String PAYLOAD = "{\"runId\":\"bench\",\"stream\":\"stdout\",\"text\":\"xxxxxxxxxxxxxxxx\"}";

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String user = args[1];
        UUID session = UUID.fromString(args[2]);
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 200;
        Thread worker = Thread.ofVirtual().start(() -> {
            try (Connection connection = DriverManager.getConnection(url, user, "")) {
                System.out.printf("%-9s %-32s %8s %8s %8s%n", "pause", "what", "p50 ms", "p90 ms", "p99 ms");
                for (int pauseMillis : new int[] {0, 5, 50}) {
                    for (String mode : new String[] {"autocommit", "transaction", "async-commit", "select"}) {
                        measure(connection, session, mode, pauseMillis, rounds);
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        worker.join();
    }

    private static void measure(Connection connection, UUID session, String mode, int pauseMillis, int rounds)
            throws SQLException, InterruptedException {
        try (var set = connection.createStatement()) {
            set.execute("set synchronous_commit = " + (mode.equals("async-commit") ? "off" : "on"));
        }
        List<Double> millis = new ArrayList<>();
        for (int i = 0; i < rounds + 10; i++) {
            Thread.sleep(pauseMillis);
            long start = System.nanoTime();
            if (mode.equals("select")) {
                try (PreparedStatement select = connection.prepareStatement("select head_seq from sessions where id = ?")) {
                    select.setObject(1, session);
                    consume(select);
                }
            } else {
                boolean explicit = mode.equals("transaction");
                if (explicit) {
                    connection.setAutoCommit(false);
                }
                try (PreparedStatement append = connection.prepareStatement(APPEND)) {
                    append.setObject(1, session);
                    append.setString(2, PAYLOAD);
                    consume(append);
                }
                if (explicit) {
                    connection.commit();
                    connection.setAutoCommit(true);
                }
            }
            if (i >= 10) { // the first ones prepare the statement
                millis.add((System.nanoTime() - start) / 1e6);
            }
        }
        millis.sort(null);
        String what = switch (mode) {
            case "autocommit" -> "append, autocommit (1 round trip)";
            case "transaction" -> "append, statement + commit (2)";
            case "async-commit" -> "append, no WAL flush (compare)";
            default -> "select one row (1, no write)";
        };
        System.out.printf("%-9s %-32s %8.2f %8.2f %8.2f%n", pauseMillis + " ms", what, at(millis, 0.5), at(millis, 0.9),
                at(millis, 0.99));
    }

    private static void consume(PreparedStatement statement) throws SQLException {
        try (ResultSet rows = statement.executeQuery()) {
            while (rows.next()) {
                rows.getLong(1);
            }
        }
    }

    private static double at(List<Double> sorted, double quantile) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(quantile * sorted.size()) - 1));
    }
}
