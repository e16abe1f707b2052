package dev.collab;

import org.junit.jupiter.api.Test;
import org.springframework.modulith.core.ApplicationModules;
import org.springframework.modulith.docs.Documenter;

/**
 * Keeps the package-by-feature shape: each top-level package under {@code dev.collab} is a module
 * whose public types are its API and whose sub-packages are internal; modules depend on each other
 * without cycles and only through that API (Spring Modulith's rules). docs/architecture.md draws
 * what this test sees.
 */
class ModuleStructureTest {

    private final ApplicationModules modules = ApplicationModules.of(CollabServerApplication.class);

    @Test
    void modulesHaveNoCyclesAndUseOnlyEachOthersApi() {
        modules.verify();
    }

    /** The diagrams behind docs/architecture.md, regenerated into target/spring-modulith-docs. */
    @Test
    void writesModuleDocumentation() {
        new Documenter(modules).writeModulesAsPlantUml().writeIndividualModulesAsPlantUml().writeModuleCanvases();
    }
}
