package dev.latentpipeline.pipeline;

import java.util.List;

/** A request that cannot be carried out, with the code and message its failed event will carry. */
public class PipelineException extends RuntimeException {
    private final ErrorCode code;
    private final List<FieldError> fields;

    public PipelineException(ErrorCode code, String message) {
        this(code, message, List.of(), null);
    }

    public PipelineException(ErrorCode code, String message, Throwable cause) {
        this(code, message, List.of(), cause);
    }

    public PipelineException(ErrorCode code, String message, List<FieldError> fields, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.fields = List.copyOf(fields);
    }

    public ErrorCode code() {
        return code;
    }

    public List<FieldError> fields() {
        return fields;
    }

    /** One offending request field. */
    public record FieldError(String field, String message) {
    }
}
