package dev.latentpipeline.pipeline;

import java.util.Locale;

/** Stable error codes of failed events (schemas/generation-event.schema.json). */
public enum ErrorCode {
    INVALID_JSON,
    INVALID_REQUEST,
    LIMIT_EXCEEDED,
    MODEL_ERROR,
    STORAGE_ERROR,
    INTERNAL_ERROR;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
