package dev.collab.project;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;

import dev.collab.access.ProjectAccess;
import org.springframework.data.domain.Sort;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Creates, updates and finds projects. */
@Service
public class Projects {

    private final ProjectRepository repository;

    private final Clock clock;

    private final ProjectAccess access;

    Projects(ProjectRepository repository, Clock clock, ProjectAccess access) {
        this.repository = repository;
        this.clock = clock;
        this.access = access;
    }

    public Optional<Project> find(String key) {
        return repository.findById(key);
    }

    List<Project> all() {
        return repository.findAll(Sort.by("key"));
    }

    /**
     * Creates the project or brings it to these settings, atomically also when two
     * replicas race. With {@code createOnly}, an existing project with other settings is
     * left alone.
     * @throws ProjectExistsException with {@code createOnly}, when the project exists
     * with other settings
     */
    @Transactional
    Saved save(String key, ProjectSettings settings, boolean createOnly) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        if (repository.insertIfAbsent(key, settings.name(), settings.repoUrl(), now)) {
            // May the caller create projects? (Else 403, and the insert rolls back.) They
            // become its admin.
            access.projectCreated(key);
            return new Saved(new Project(key, settings.name(), settings.repoUrl(), now), Outcome.CREATED);
        }
        Project existing = repository.findLockedByKey(key).orElseThrow();
        if (existing.hasSettings(settings)) {
            return new Saved(existing, Outcome.UNCHANGED);
        }
        if (createOnly) {
            throw new ProjectExistsException(key);
        }
        return new Saved(repository.save(existing.with(settings)), Outcome.UPDATED);
    }

    enum Outcome {

        CREATED, UPDATED, UNCHANGED

    }

    record Saved(Project project, Outcome outcome) {
    }

}
