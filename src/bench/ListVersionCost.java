import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

/**
 * Benchmark (issue 16): what V14's list-version trigger adds to one append. The log's append
 * statement (EventLog's single append, autocommit, as the server runs it) against a PostgreSQL
 * with collab's schema, in alternating blocks with the trigger enabled and disabled (same
 * connection, same session row, same minute), so the machine's drift hits both alike.
 *
 * <pre>java -cp postgresql.jar src/bench/ListVersionCost.java jdbc-url user password session-id [blocks] [per-block]</pre>
 */
public class ListVersionCost {

    private static final String APPEND = """
            with bumped as (
                update sessions
                   set head_seq = head_seq + 1, last_activity_at = greatest(last_activity_at, now()),
                       log_closed = log_closed or false
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
        UUID session = UUID.fromString(args[3]);
        int blocks = args.length > 4 ? Integer.parseInt(args[4]) : 10;
        int perBlock = args.length > 5 ? Integer.parseInt(args[5]) : 200;
        List<Double> with = new ArrayList<>();
        List<Double> without = new ArrayList<>();
        try (Connection connection = DriverManager.getConnection(url, args[1], args[2]);
                PreparedStatement append = connection.prepareStatement(APPEND)) {
            for (int i = 0; i < 50; i++) { // warm-up
                run(append, session);
            }
            try {
                for (int block = 0; block < blocks; block++) {
                    for (boolean trigger : new boolean[] { true, false }) {
                        try (var alter = connection.createStatement()) {
                            alter.execute("alter table sessions " + (trigger ? "enable" : "disable")
                                    + " trigger sessions_list_version");
                        }
                        for (int i = 0; i < perBlock; i++) {
                            long start = System.nanoTime();
                            run(append, session);
                            (trigger ? with : without).add((System.nanoTime() - start) / 1e6);
                        }
                    }
                }
            }
            finally {
                try (var alter = connection.createStatement()) {
                    alter.execute("alter table sessions enable trigger sessions_list_version");
                }
            }
        }
        System.out.printf("%-22s %9s %9s %9s %9s%n", "append (autocommit)", "mean ms", "p50 ms", "p90 ms", "p99 ms");
        print("with the trigger", with);
        print("without", without);
    }

    private static void run(PreparedStatement append, UUID session) throws Exception {
        append.setObject(1, session);
        append.setString(2, PAYLOAD);
        try (var rows = append.executeQuery()) {
            if (!rows.next()) {
                throw new IllegalStateException("no append");
            }
        }
    }

    private static void print(String what, List<Double> millis) {
        Collections.sort(millis);
        double mean = millis.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        System.out.printf("%-22s %9.3f %9.3f %9.3f %9.3f%n", what, mean, at(millis, 0.5), at(millis, 0.9),
                at(millis, 0.99));
    }

    private static double at(List<Double> sorted, double p) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
    }

}
