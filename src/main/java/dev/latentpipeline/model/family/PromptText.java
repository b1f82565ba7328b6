package dev.latentpipeline.model.family;

/** The text one text encoder reads, and the request field it comes from (for truncation notes). */
public record PromptText(String field, String text) {
}
