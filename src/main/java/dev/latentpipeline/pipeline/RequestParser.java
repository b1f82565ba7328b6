package dev.latentpipeline.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Turns the bytes of an sd.requests record into a {@link GenerationRequest}: JSON, then the request schema, then
 * defaults (the schema's "default" keywords; width and height from the served model), id and seed, then the
 * model-specific fields the model does not read, then the deployment limits.
 */
public final class RequestParser {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    private static final Pattern ID = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$");
    private static final SecureRandom SEEDS = new SecureRandom();

    private final JsonSchema schema;
    private final ObjectNode defaults;
    private final RequestLimits limits;
    private final RequestRules model;

    /** @param model the served model's part of the contract (its family): default size, fields it reads */
    public RequestParser(RequestLimits limits, RequestRules model) {
        JsonNode schemaJson = ContractSchemas.read(ContractSchemas.REQUEST);
        this.schema = ContractSchemas.compile(schemaJson);
        this.defaults = JSON.createObjectNode();
        schemaJson.get("properties").fields().forEachRemaining(property -> {
            if (property.getValue().has("default")) {
                defaults.set(property.getKey(), property.getValue().get("default"));
            }
        });
        this.limits = limits;
        this.model = model;
    }

    /** The outcome: a request to run, or a rejection carrying the request id when one could be read. */
    public sealed interface Outcome permits Accepted, Rejected {
    }

    public record Accepted(GenerationRequest request) implements Outcome {
    }

    /** requestId is null when neither the record key nor the body names one: such input is logged and skipped. */
    public record Rejected(String requestId, PipelineException error) implements Outcome {
    }

    public Outcome parse(String key, byte[] value) {
        String keyId = key != null && ID.matcher(key).matches() ? key : null;
        JsonNode body;
        try {
            body = value == null ? null : JSON.readTree(new String(value, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            return new Rejected(keyId, new PipelineException(ErrorCode.INVALID_JSON,
                    "request is not valid JSON: " + e.getOriginalMessage()));
        } catch (IOException e) {
            return new Rejected(keyId, new PipelineException(ErrorCode.INVALID_JSON, "request cannot be read"));
        }
        if (body == null || !body.isObject()) {
            return new Rejected(keyId, new PipelineException(ErrorCode.INVALID_JSON,
                    "request must be a JSON object"));
        }
        JsonNode bodyId = body.get("id");
        String requestId = bodyId != null && bodyId.isTextual() && ID.matcher(bodyId.asText()).matches()
                ? bodyId.asText() : keyId;

        List<PipelineException.FieldError> errors = schemaErrors(body);
        if (!errors.isEmpty()) {
            String summary = errors.stream().map(e -> e.field() + ": " + e.message())
                    .reduce((a, b) -> a + "; " + b).orElse("");
            return new Rejected(requestId, new PipelineException(ErrorCode.INVALID_REQUEST,
                    "invalid request: " + summary, errors, null));
        }
        ObjectNode normalized = defaults.deepCopy();
        normalized.setAll((ObjectNode) body);
        if (requestId == null) {
            requestId = UUID.randomUUID().toString();
        }
        normalized.put("id", requestId);
        if (!normalized.has("seed")) {
            normalized.put("seed", SEEDS.nextLong() & 0xFFFF_FFFFL);
        }
        // diffusers: height = height or default_sample_size * vae_scale_factor, each on its own.
        if (!normalized.has("width")) {
            normalized.put("width", model.defaultWidth());
        }
        if (!normalized.has("height")) {
            normalized.put("height", model.defaultHeight());
        }
        GenerationRequest request = JSON.convertValue(normalized, GenerationRequest.class);
        List<PipelineException.FieldError> unread = unreadFields(request);
        if (!unread.isEmpty()) {
            return new Rejected(requestId, new PipelineException(ErrorCode.INVALID_REQUEST, "invalid request: "
                    + unread.get(0).message() + (unread.size() > 1 ? " (and " + (unread.size() - 1)
                    + " more such field(s))" : ""), unread, null));
        }
        List<PipelineException.FieldError> overLimit = limitErrors(request);
        if (!overLimit.isEmpty()) {
            String summary = overLimit.stream().map(e -> e.field() + ": " + e.message())
                    .reduce((a, b) -> a + "; " + b).orElse("");
            return new Rejected(requestId, new PipelineException(ErrorCode.LIMIT_EXCEEDED,
                    "request exceeds this deployment's limits: " + summary, overLimit, null));
        }
        return new Accepted(request);
    }

    private List<PipelineException.FieldError> schemaErrors(JsonNode body) {
        List<PipelineException.FieldError> errors = new ArrayList<>();
        for (ValidationMessage message : schema.validate(body)) {
            String field = fieldName(message.getInstanceLocation().toString());
            if (field.isEmpty() && message.getProperty() != null) {
                field = message.getProperty();
            }
            String text = message.getMessage();
            // The validator prefixes its messages with the location; the field is reported on its own.
            int colon = text.indexOf(": ");
            if (colon >= 0 && (text.startsWith("$") || text.startsWith("/") || text.startsWith(":"))) {
                text = text.substring(colon + 2);
            }
            errors.add(new PipelineException.FieldError(field.isEmpty() ? "(request)" : field, text));
        }
        errors.sort(Comparator.comparing(PipelineException.FieldError::field));
        return errors;
    }

    /** "/a/b" (JSON pointer) or "$.a.b" (JSON path) as "a.b"; the root is "". */
    static String fieldName(String location) {
        if (location.startsWith("$")) {
            return location.length() > 2 ? location.substring(2) : "";
        }
        return location.startsWith("/") ? location.substring(1).replace('/', '.') : location;
    }

    /** Model-specific fields the served model does not read: refused, so nobody thinks they did something. */
    private List<PipelineException.FieldError> unreadFields(GenerationRequest r) {
        List<PipelineException.FieldError> errors = new ArrayList<>();
        r.modelSpecificFields().forEach((field, present) -> {
            if (present && !model.honouredFields().contains(field)) {
                errors.add(new PipelineException.FieldError(field, field + " is not read by " + model.modelName()
                        + " models, which this deployment serves"));
            }
        });
        return errors;
    }

    private List<PipelineException.FieldError> limitErrors(GenerationRequest r) {
        List<PipelineException.FieldError> errors = new ArrayList<>();
        check(errors, "width", r.width(), limits.maxWidth());
        check(errors, "height", r.height(), limits.maxHeight());
        check(errors, "steps", r.steps(), limits.maxSteps());
        check(errors, "num_images", r.numImages(), limits.maxImages());
        return errors;
    }

    private static void check(List<PipelineException.FieldError> errors, String field, int value, int max) {
        if (value > max) {
            errors.add(new PipelineException.FieldError(field, "must be at most " + max + " here, was " + value));
        }
    }

    /** The normalized request as JSON, the form carried between stages and in the accepted event. */
    public static String toJson(GenerationRequest request) {
        try {
            return JSON.writeValueAsString(request);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static GenerationRequest fromJson(String json) {
        try {
            return JSON.readValue(json, GenerationRequest.class);
        } catch (JsonProcessingException e) {
            throw new PipelineException(ErrorCode.INTERNAL_ERROR, "stage message carries an unreadable request: "
                    + e.getOriginalMessage(), e);
        }
    }

}
