package dev.collab.project;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import dev.collab.access.Audit;
import dev.collab.access.CurrentUser;
import dev.collab.access.ProjectAccess;
import dev.collab.access.Role;
import org.springframework.data.domain.Sort;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Creates, updates and finds projects. */
@Service
public class Projects {

    private final ProjectRepository repository;

    private final Clock clock;

    private final ProjectAccess access;

    private final Audit audit;

    Projects(ProjectRepository repository, Clock clock, ProjectAccess access, Audit audit) {
        this.repository = repository;
        this.clock = clock;
        this.access = access;
        this.audit = audit;
    }

    public Optional<Project> find(String key) {
        return repository.findById(key);
    }

    /**
     * The caller's projects (every project, for a server admin), ordered by key: one
     * query either way, and no list of keys as bind parameters (PostgreSQL takes at most
     * 65,535 of them).
     */
    List<Project> visible() {
        CurrentUser user = access.currentUser();
        return user.admin() ? repository.findAll(Sort.by("key")) : repository.findOfMember(user.id());
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
        String approvers = settings.approvers() == null ? ProjectSettings.MEMBERS : settings.approvers();
        String busyPolicy = settings.busyPolicy() == null ? ProjectSettings.QUEUE : settings.busyPolicy();
        if (repository.insertIfAbsent(key, settings.name(), settings.repoUrl(), approvers, busyPolicy, now)) {
            // May the caller create projects? (Else 403, and the insert rolls back.) They
            // become its admin.
            access.projectCreated(key);
            return new Saved(new Project(key, settings.name(), settings.repoUrl(), approvers, busyPolicy, now),
                    Outcome.CREATED);
        }
        Project existing = repository.findLockedByKey(key).orElseThrow();
        // Changing a project is its admins', and so is the answer about an existing one,
        // even when nothing would change. A non-member learns no more than from a key
        // that does not exist: where they could not create one, the same 403; else 404.
        if (access.roleIn(key).isEmpty()) {
            access.requireMayCreateProjects();
            throw new ProjectNotFoundException(key);
        }
        access.requireRole(key, Role.ADMIN);
        if (existing.hasSettings(settings)) {
            return new Saved(existing, Outcome.UNCHANGED);
        }
        if (createOnly) {
            throw new ProjectExistsException(key);
        }
        Project updated = repository.save(existing.with(settings));
        // Which settings changed, not their values: a repository URL may carry a
        // credential (https://user:token@host/…), and the audit log holds no secret.
        List<String> changed = new ArrayList<>();
        if (!existing.name().equals(updated.name())) {
            changed.add("name");
        }
        if (!Objects.equals(existing.repoUrl(), updated.repoUrl())) {
            changed.add("repoUrl");
        }
        if (!existing.approvers().equals(updated.approvers())) {
            changed.add("approvers");
        }
        if (!existing.busyPolicy().equals(updated.busyPolicy())) {
            changed.add("busyPolicy");
        }
        audit.record("project.updated", "project:" + key, Map.of("changed", changed));
        return new Saved(updated, Outcome.UPDATED);
    }

    enum Outcome {

        CREATED, UPDATED, UNCHANGED

    }

    record Saved(Project project, Outcome outcome) {
    }

}
