package dev.latentpipeline.api.problem;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * An RFC 9457 problem document. {@code code} is a stable machine-readable name; {@code errors} names each bad field
 * (a JSON field of the body, a query or path parameter, or a header).
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Problem(
        @JsonProperty("type") String type,
        @JsonProperty("title") String title,
        @JsonProperty("status") int status,
        @JsonProperty("detail") String detail,
        @JsonProperty("instance") String instance,
        @JsonProperty("code") String code,
        @JsonProperty("errors") List<FieldProblem> errors) {

    public static final String MEDIA_TYPE = "application/problem+json";

    public record FieldProblem(@JsonProperty("field") String field, @JsonProperty("message") String message) {
    }
}
