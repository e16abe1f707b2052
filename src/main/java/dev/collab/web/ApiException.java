package dev.collab.web;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A request that cannot be served as asked; rendered as an RFC 9457 problem with its
 * {@link ProblemCode} and any extension members (for example {@code runId},
 * {@code errors}).
 */
public class ApiException extends RuntimeException {

    private final ProblemCode code;

    private final transient Map<String, @Nullable Object> extensions = new LinkedHashMap<>();

    public ApiException(ProblemCode code, String detail) {
        super(detail, null, false, false);
        this.code = code;
    }

    public static ApiException notFound(String detail) {
        return new ApiException(ProblemCode.NOT_FOUND, detail);
    }

    /** A path, query or body value that breaks its rule. */
    public static ApiException invalid(String field, String message) {
        return invalid(List.of(new FieldProblem(field, message)));
    }

    public static ApiException invalid(List<FieldProblem> errors) {
        String detail = errors.size() == 1 ? errors.getFirst().field() + ": " + errors.getFirst().message()
                : errors.size() + " values are invalid";
        return new ApiException(ProblemCode.VALIDATION_FAILED, detail).with("errors", List.copyOf(errors));
    }

    public ApiException with(String member, @Nullable Object value) {
        extensions.put(member, value);
        return this;
    }

    public ProblemCode code() {
        return code;
    }

    public Map<String, @Nullable Object> extensions() {
        return extensions;
    }

    /** One entry of a {@code validation-failed} problem's {@code errors} member. */
    public record FieldProblem(@Nullable String field, @Nullable String message) {
    }

}
