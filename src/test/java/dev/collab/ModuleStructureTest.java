package dev.collab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.importer.ImportOption;
import dev.collab.run.demo.DemoAgent;
import org.junit.jupiter.api.Test;
import org.springframework.modulith.core.ApplicationModule;
import org.springframework.modulith.core.ApplicationModules;
import org.springframework.modulith.docs.Documenter;

/**
 * Keeps the package-by-feature shape: each top-level package under {@code dev.collab} is
 * a module whose public types are its API and whose sub-packages are internal; modules
 * depend on each other without cycles and only through that API (Spring Modulith's
 * rules). docs/architecture.md draws what this test sees.
 */
class ModuleStructureTest {

    private final ApplicationModules modules = ApplicationModules.of(CollabServerApplication.class);

    @Test
    void modulesHaveNoCyclesAndUseOnlyEachOthersApi() {
        modules.verify();
    }

    /**
     * The modules the architecture document describes, no more: a new top-level package
     * is a new module, to be added here and to docs/architecture.md on purpose. Also
     * keeps the check above from passing because it found nothing to check.
     */
    @Test
    void theModulesAreTheDocumentedOnes() {
        assertThat(modules.stream().map(ApplicationModule::getIdentifier).map(Object::toString))
            .containsExactlyInAnyOrder("access", "api", "app", "approval", "checkout", "cluster", "database", "event",
                    "message", "ops", "presence", "project", "run", "session", "stream", "unread", "web", "workspace");
        // The demo agent is a sub-package of run, so internal to it, not a module of its
        // own.
        assertThat(modules.getModuleByType(DemoAgent.class)).map(ApplicationModule::getIdentifier)
            .map(Object::toString)
            .contains("run");
    }

    /**
     * The modules every other may use depend on none themselves; the log knows neither
     * its writers nor its readers.
     */
    @Test
    void theFoundationsDependOnNoFeature() {
        assertThat(dependenciesOf("web")).isEmpty();
        assertThat(dependenciesOf("ops")).isEmpty();
        // The history asks access whether the caller may read the session's project.
        assertThat(dependenciesOf("event")).containsExactlyInAnyOrder("web", "access");
        assertThat(dependenciesOf("cluster")).containsExactly("database");
    }

    /**
     * Every feature may ask {@code access} who the caller is and what they may do in a
     * project ({@code project} does when a project is created), so {@code access} knows
     * projects by key only and depends on no feature: only on the foundations.
     */
    @Test
    void accessDependsOnNoFeature() {
        assertThat(dependenciesOf("access")).containsExactly("api", "cluster", "ops", "web");
        assertThat(dependenciesOf("project")).contains("access");
    }

    /**
     * The checkout (issue 15) sits between the run and the session: the run asks it for
     * the repository before the agent starts; it knows no run.
     */
    @Test
    void theCheckoutKnowsNoRun() {
        assertThat(dependenciesOf("checkout")).containsExactlyInAnyOrder("access", "api", "event", "project", "session",
                "web", "workspace");
        assertThat(dependenciesOf("run")).contains("checkout");
    }

    /**
     * The check fails on what it is meant to catch: a cycle, and a module using another's
     * internal type.
     */
    @Test
    void aCycleAndAReachIntoInternalsFailTheCheck() {
        ApplicationModules broken = ApplicationModules.of("modulefixture", new ImportOption.OnlyIncludeTests());
        assertThatThrownBy(broken::verify).hasMessageContaining("Cycle detected")
            .hasMessageContaining("non-exposed type modulefixture.a.internal.Hidden");
    }

    /**
     * The diagrams behind docs/architecture.md, regenerated into
     * target/spring-modulith-docs.
     */
    @Test
    void writesModuleDocumentation() {
        new Documenter(modules).writeModulesAsPlantUml().writeIndividualModulesAsPlantUml().writeModuleCanvases();
    }

    /**
     * Approvals implement the runner's {@code ApprovalGate}: the run module knows the
     * interface only, so it never depends on them.
     */
    @Test
    void theRunnerKnowsApprovalsOnlyThroughItsInterface() {
        assertThat(dependenciesOf("run")).doesNotContain("approval");
        assertThat(dependenciesOf("approval")).contains("run", "event", "cluster", "access");
    }

    /**
     * Presence (issue 16) implements the stream's {@code StreamWatchers} and fills a
     * session's JSON through {@code SessionDetails}: neither the stream nor the session
     * knows it.
     */
    @Test
    void presenceIsKnownOnlyThroughInterfaces() {
        assertThat(dependenciesOf("stream")).doesNotContain("presence");
        assertThat(dependenciesOf("session")).doesNotContain("presence");
        assertThat(dependenciesOf("presence")).contains("stream", "session", "cluster", "access");
        assertThat(dependenciesOf("session")).doesNotContain("unread");
        assertThat(dependenciesOf("event")).doesNotContain("unread");
    }

    private java.util.List<String> dependenciesOf(String name) {
        return modules.getModuleByName(name)
            .orElseThrow()
            .getDirectDependencies(modules)
            .uniqueModules()
            .map(module -> module.getIdentifier().toString())
            .sorted()
            .toList();
    }

}
