package dev.collab.checkout;

import java.util.List;

import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;

/**
 * The body of {@code GET /api/sessions/{id}/diff}: the workspace's changes against the
 * commit its clone started from (docs/api.md).
 *
 * @param status {@code ready} (the diff is below), {@code no-repository} (the project has
 * none, or it is not cloned yet), {@code preparing} (being cloned), {@code gone} (the
 * session ended and its workspace is removed)
 * @param baseCommit the commit the session's branch started from
 * @param branch {@code collab/<session-id>}
 * @param files the changed files, by path (at most collab.workspace.git.diff-max-files)
 * @param totals all changed files, also those past the limits
 * @param truncated some files or lines were left out (limits)
 */
public record Diff(@Schema(allowableValues = {
        "ready", "no-repository", "preparing", "gone" }) String status,
        @Schema(types = { "string", "null" }) @Nullable String baseCommit,
        @Schema(types = { "string", "null" }) @Nullable String branch, List<ChangedFile> files, DiffTotals totals,
        boolean truncated){

    static Diff without(String status, @Nullable String baseCommit, @Nullable String branch) {
        return new Diff(status, baseCommit, branch, List.of(), new DiffTotals(0, 0, 0), false);
    }

    /**
     * One changed file.
     *
     * @param path repository-relative, {@code /}-separated
     * @param oldPath the path before a rename or copy, else null
     * @param binary git sees binary content: no hunks, no line counts
     * @param truncated some of its lines were left out (limits, or a very long line cut)
     */
    public record ChangedFile(String path, @Schema(types = {
            "string", "null" }) @Nullable String oldPath,
            @Schema(allowableValues = { "added", "modified", "deleted", "renamed", "copied",
                    "type-changed" }) String status,
            boolean binary, int additions, int deletions, boolean truncated, List<DiffHunk> hunks){
    }

    /**
     * One hunk of a unified diff.
     *
     * @param header the {@code @@ -a,b +c,d @@ …} line
     * @param lines each starting with {@code ' '}, {@code '+'}, {@code '-'} or
     * {@code '\'} (no newline at end of file)
     */
    public record DiffHunk(String header, int oldStart, int oldLines, int newStart, int newLines, List<String> lines) {
    }

    /** Counts over every changed file. */
    public record DiffTotals(int files, int additions, int deletions) {
    }

}
