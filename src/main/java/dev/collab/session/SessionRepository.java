package dev.collab.session;

import java.util.Optional;
import java.util.UUID;

import org.springframework.data.repository.Repository;

/**
 * Reads of the {@link Session} aggregate (Spring Data JDBC). Deliberately no
 * {@code save}: every change of a session row is a conditional UPDATE that must not
 * overwrite what a concurrent append moved under the row lock ({@code head_seq},
 * {@code last_activity_at}), so {@link Sessions} makes them with {@code JdbcClient}; so
 * is the keyset-paginated list, the hot query.
 */
// A bean name of its own: "sessionRepository" is Spring Session's repository of browser
// sessions (access), and two beans of one name stop the startup.
@org.springframework.stereotype.Repository("agentSessionRepository")
interface SessionRepository extends Repository<Session, UUID> {

    Optional<Session> findById(UUID id);

}
