package dev.latentpipeline.pipeline;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A validated generation request with defaults, id and seed filled in: the domain form of
 * schemas/generation-request.schema.json. Every stage sees the same normalized request.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GenerationRequest(
        @JsonProperty("id") String id,
        @JsonProperty("prompt") String prompt,
        @JsonProperty("negative_prompt") String negativePrompt,
        @JsonProperty("width") int width,
        @JsonProperty("height") int height,
        @JsonProperty("steps") int steps,
        @JsonProperty("guidance_scale") double guidanceScale,
        @JsonProperty("scheduler") String scheduler,
        @JsonProperty("seed") long seed,
        @JsonProperty("num_images") int numImages,
        @JsonProperty("callback_url") String callbackUrl) {

    private static final long SEED_RANGE = 1L << 32;

    /** Seed of image k: seed + k, wrapped into numpy's seed range [0, 2^32), so image k is reproducible alone. */
    public long seedOf(int imageIndex) {
        return Math.floorMod(seed + imageIndex, SEED_RANGE);
    }

    /** The same request, with the sampler the model's default resolved to. */
    public GenerationRequest withScheduler(String name) {
        return new GenerationRequest(id, prompt, negativePrompt, width, height, steps, guidanceScale, name, seed,
                numImages, callbackUrl);
    }

    /** Classifier-free guidance needs the unconditional pass only when g > 1. */
    @JsonIgnore
    public boolean guided() {
        return guidanceScale > 1.0;
    }
}
