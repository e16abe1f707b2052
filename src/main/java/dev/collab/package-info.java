/**
 * collab-server: a team service that hosts coding-agent sessions.
 * <p>
 * Each package directly below this one is a module, one per feature, checked by
 * {@code ModuleStructureTest} (Spring Modulith): the modules depend on each other without
 * cycles and only through the public types of each other's top-level package;
 * sub-packages are internal. This package itself holds only what every module shares: the
 * application class, the one {@link java.time.Clock} (so tests can move time) and
 * {@link dev.collab.CollabProperties} ({@code collab.data-dir}). docs/architecture.md
 * draws the modules and how a send and a live stream flow through them.
 */
@NullMarked
package dev.collab;

import org.jspecify.annotations.NullMarked;
