package dev.collab.project;

import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;

import org.springframework.data.domain.Sort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Creates, updates and finds projects. */
@Service
public class Projects {

    private final ProjectRepository repository;
    private final JdbcClient jdbc;
    private final Clock clock;

    Projects(ProjectRepository repository, JdbcClient jdbc, Clock clock) {
        this.repository = repository;
        this.jdbc = jdbc;
        this.clock = clock;
    }

    public Optional<Project> find(String key) {
        return repository.findById(key);
    }

    List<Project> all() {
        return repository.findAll(Sort.by("key"));
    }

    /**
     * Creates the project or brings it to these settings, atomically also when two replicas race.
     * With {@code createOnly}, an existing project with other settings is left alone.
     *
     * @throws ProjectExistsException with {@code createOnly}, when the project exists with other settings
     */
    @Transactional
    Saved save(String key, ProjectSettings settings, boolean createOnly) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        Optional<Project> inserted = jdbc.sql("""
                        insert into projects (key, name, repo_url, created_at)
                        values (:key, :name, :repoUrl, :now)
                        on conflict (key) do nothing
                        returning key, name, repo_url, created_at
                        """)
                .param("key", key).param("name", settings.name()).param("repoUrl", settings.repoUrl())
                .param("now", now.atOffset(ZoneOffset.UTC))
                .query(Projects::map).optional();
        if (inserted.isPresent()) {
            return new Saved(inserted.get(), Outcome.CREATED);
        }
        Project existing = jdbc.sql("select key, name, repo_url, created_at from projects where key = :key for update")
                .param("key", key).query(Projects::map).single();
        if (existing.hasSettings(settings)) {
            return new Saved(existing, Outcome.UNCHANGED);
        }
        if (createOnly) {
            throw new ProjectExistsException(key);
        }
        Project updated = jdbc.sql("""
                        update projects set name = :name, repo_url = :repoUrl where key = :key
                        returning key, name, repo_url, created_at
                        """)
                .param("key", key).param("name", settings.name()).param("repoUrl", settings.repoUrl())
                .query(Projects::map).single();
        return new Saved(updated, Outcome.UPDATED);
    }

    private static Project map(java.sql.ResultSet rs, int row) throws java.sql.SQLException {
        return new Project(rs.getString("key"), rs.getString("name"), rs.getString("repo_url"),
                rs.getObject("created_at", OffsetDateTime.class).toInstant());
    }

    enum Outcome { CREATED, UPDATED, UNCHANGED }

    record Saved(Project project, Outcome outcome) {
    }
}
