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
        @JsonProperty("callback_url") String callbackUrl,
        @JsonProperty("latents") String latents,
        @JsonProperty("init_image") String initImage,
        @JsonProperty("strength") Double strength,
        @JsonProperty("priority") RequestPriority priority) {

    private static final long SEED_RANGE = 1L << 32;
    /** diffusers' StableDiffusionImg2ImgPipeline default. */
    public static final double DEFAULT_STRENGTH = 0.8;

    public GenerationRequest {
        if (initImage != null && strength == null) {
            strength = DEFAULT_STRENGTH;
        }
        if (priority == null) {
            priority = RequestPriority.NORMAL;
        }
    }

    /** A request at normal priority. */
    public GenerationRequest(String id, String prompt, String negativePrompt, int width, int height, int steps,
            double guidanceScale, String scheduler, long seed, int numImages, String callbackUrl, String latents,
            String initImage, Double strength) {
        this(id, prompt, negativePrompt, width, height, steps, guidanceScale, scheduler, seed, numImages, callbackUrl,
                latents, initImage, strength, RequestPriority.NORMAL);
    }

    /** A text-to-image request from seeded noise. */
    public GenerationRequest(String id, String prompt, String negativePrompt, int width, int height, int steps,
            double guidanceScale, String scheduler, long seed, int numImages, String callbackUrl) {
        this(id, prompt, negativePrompt, width, height, steps, guidanceScale, scheduler, seed, numImages, callbackUrl,
                null, null, null);
    }

    /** Seed of image k: seed + k, wrapped into numpy's seed range [0, 2^32), so image k is reproducible alone. */
    public long seedOf(int imageIndex) {
        return Math.floorMod(seed + imageIndex, SEED_RANGE);
    }

    /** The same request, with the sampler the model's default resolved to. */
    public GenerationRequest withScheduler(String name) {
        return new GenerationRequest(id, prompt, negativePrompt, width, height, steps, guidanceScale, name, seed,
                numImages, callbackUrl, latents, initImage, strength, priority);
    }

    /** img2img: denoising starts from the encoded init image instead of pure noise. */
    @JsonIgnore
    public boolean imageToImage() {
        return initImage != null;
    }

    /** Classifier-free guidance needs the unconditional pass only when g > 1. */
    @JsonIgnore
    public boolean guided() {
        return guidanceScale > 1.0;
    }
}
