/**
 * A deliberately broken application for {@code dev.collab.ModuleStructureTest}: modules
 * {@code a} and {@code b} depend on each other, and {@code b} uses a type internal to
 * {@code a}. It proves the structure check fails on what it is meant to catch (a check
 * that cannot fail proves nothing).
 */
package modulefixture;
