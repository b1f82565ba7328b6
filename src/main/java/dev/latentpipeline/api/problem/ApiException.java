package dev.latentpipeline.api.problem;

import java.time.Duration;
import java.util.List;

/** An answer other than success, turned into a problem document by {@link ProblemMappers}. */
public class ApiException extends RuntimeException {
    private final int status;
    private final String code;
    private final List<Problem.FieldProblem> errors;
    private final Duration retryAfter;

    public ApiException(int status, String code, String detail, List<Problem.FieldProblem> errors,
            Duration retryAfter) {
        super(detail, null, false, false);
        this.status = status;
        this.code = code;
        this.errors = List.copyOf(errors);
        this.retryAfter = retryAfter;
    }

    public static ApiException field(int status, String code, String field, String message) {
        return new ApiException(status, code, field + ": " + message, List.of(new Problem.FieldProblem(field, message)),
                null);
    }

    public static ApiException notFound(String what) {
        return new ApiException(404, "not_found", what, List.of(), null);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public List<Problem.FieldProblem> errors() {
        return errors;
    }

    public Duration retryAfter() {
        return retryAfter;
    }
}
