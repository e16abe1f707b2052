package dev.collab.project;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.jspecify.annotations.Nullable;
import org.springframework.data.jdbc.repository.query.Modifying;
import org.springframework.data.jdbc.repository.query.Query;
import org.springframework.data.relational.core.sql.LockMode;
import org.springframework.data.relational.repository.Lock;
import org.springframework.data.repository.ListCrudRepository;
import org.springframework.data.repository.ListPagingAndSortingRepository;

/**
 * The {@link Project} aggregate in PostgreSQL (Spring Data JDBC). {@code save} updates an
 * existing project (its key is never null, so Spring Data treats it as not new); creating
 * one goes through {@link #insertIfAbsent}, which two replicas may race without either
 * failing.
 */
interface ProjectRepository
        extends ListCrudRepository<Project, String>, ListPagingAndSortingRepository<Project, String> {

    /**
     * Inserts the project unless its key exists. One statement that never fails on a
     * duplicate: a failed insert would abort the transaction, and the caller goes on to
     * read the winner's row.
     * @return whether this call created it
     */
    @Modifying
    @Query("""
            insert into projects (key, name, repo_url, approvers, busy_policy, created_at)
            values (:key, :name, :repoUrl, :approvers, :busyPolicy, :createdAt)
            on conflict (key) do nothing
            """)
    boolean insertIfAbsent(String key, String name, @Nullable String repoUrl, String approvers, String busyPolicy,
            Instant createdAt);

    /**
     * The project, its row locked until the transaction ends
     * ({@code select … for update}).
     */
    @Lock(LockMode.PESSIMISTIC_WRITE)
    Optional<Project> findLockedByKey(String key);

    /** The projects the user is a member of, ordered by key. */
    @Query("""
            select p.* from projects p join project_members m on m.project_key = p.key
            where m.user_id = :userId
            order by p.key
            """)
    List<Project> findOfMember(UUID userId);

}
