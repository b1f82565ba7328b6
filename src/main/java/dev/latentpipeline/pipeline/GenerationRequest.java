package dev.latentpipeline.pipeline;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A validated generation request with defaults, id and seed filled in: the domain form of
 * schemas/generation-request.schema.json. Every stage sees the same normalized request.
 *
 * <p>{@code negativePrompt} stays null when the request has none: SDXL conditions such a request on zeros
 * (force_zeros_for_empty_prompt) while an explicit "" is encoded like any prompt; SD 1.x/2.x encode "" for both.
 * The fields from {@code prompt2} on are SDXL's (diffusers' names and (height, width) / (top, left) order); null
 * means diffusers' default, which the model family applies.
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
        @JsonProperty("prompt_2") String prompt2,
        @JsonProperty("negative_prompt_2") String negativePrompt2,
        @JsonProperty("original_size") Size originalSize,
        @JsonProperty("crops_coords_top_left") Crop cropsCoordsTopLeft,
        @JsonProperty("target_size") Size targetSize,
        @JsonProperty("negative_original_size") Size negativeOriginalSize,
        @JsonProperty("negative_crops_coords_top_left") Crop negativeCropsCoordsTopLeft,
        @JsonProperty("negative_target_size") Size negativeTargetSize,
        @JsonProperty("priority") RequestPriority priority) {

    private static final long SEED_RANGE = 1L << 32;
    /** diffusers' StableDiffusionImg2ImgPipeline default. */
    public static final double DEFAULT_STRENGTH = 0.8;

    /** diffusers' (height, width) tuple, a JSON array [height, width]. */
    @JsonFormat(shape = JsonFormat.Shape.ARRAY)
    @JsonPropertyOrder({"height", "width"})
    public record Size(int height, int width) {
    }

    /** diffusers' crops_coords_top_left (top, left), a JSON array [top, left]. */
    @JsonFormat(shape = JsonFormat.Shape.ARRAY)
    @JsonPropertyOrder({"top", "left"})
    public record Crop(int top, int left) {
    }

    public GenerationRequest {
        if (initImage != null && strength == null) {
            strength = DEFAULT_STRENGTH;
        }
        if (priority == null) {
            priority = RequestPriority.NORMAL;
        }
    }

    /** A text-to-image request from seeded noise. */
    public GenerationRequest(String id, String prompt, String negativePrompt, int width, int height, int steps,
            double guidanceScale, String scheduler, long seed, int numImages, String callbackUrl) {
        this(id, prompt, negativePrompt, width, height, steps, guidanceScale, scheduler, seed, numImages, callbackUrl,
                null, null, null);
    }

    /** A request at normal priority. */
    public GenerationRequest(String id, String prompt, String negativePrompt, int width, int height, int steps,
            double guidanceScale, String scheduler, long seed, int numImages, String callbackUrl, String latents,
            String initImage, Double strength, String prompt2, String negativePrompt2, Size originalSize,
            Crop cropsCoordsTopLeft, Size targetSize, Size negativeOriginalSize, Crop negativeCropsCoordsTopLeft,
            Size negativeTargetSize) {
        this(id, prompt, negativePrompt, width, height, steps, guidanceScale, scheduler, seed, numImages, callbackUrl,
                latents, initImage, strength, prompt2, negativePrompt2, originalSize, cropsCoordsTopLeft, targetSize,
                negativeOriginalSize, negativeCropsCoordsTopLeft, negativeTargetSize, RequestPriority.NORMAL);
    }

    /** A request without SDXL's fields, at normal priority. */
    public GenerationRequest(String id, String prompt, String negativePrompt, int width, int height, int steps,
            double guidanceScale, String scheduler, long seed, int numImages, String callbackUrl, String latents,
            String initImage, Double strength) {
        this(id, prompt, negativePrompt, width, height, steps, guidanceScale, scheduler, seed, numImages, callbackUrl,
                latents, initImage, strength, null, null, null, null, null, null, null, null, RequestPriority.NORMAL);
    }

    /** Seed of image k: seed + k, wrapped into numpy's seed range [0, 2^32), so image k is reproducible alone. */
    public long seedOf(int imageIndex) {
        return Math.floorMod(seed + imageIndex, SEED_RANGE);
    }

    /** The same request, with the sampler the model's default resolved to. */
    public GenerationRequest withScheduler(String name) {
        return new GenerationRequest(id, prompt, negativePrompt, width, height, steps, guidanceScale, name, seed,
                numImages, callbackUrl, latents, initImage, strength, prompt2, negativePrompt2, originalSize,
                cropsCoordsTopLeft, targetSize, negativeOriginalSize, negativeCropsCoordsTopLeft, negativeTargetSize,
                priority);
    }

    /** img2img: denoising starts from the encoded init image instead of pure noise. */
    @JsonIgnore
    public boolean imageToImage() {
        return initImage != null;
    }

    /**
     * Classifier-free guidance is asked for (g > 1). Whether the UNet runs the unconditional pass is the model
     * family's answer: a UNet that embeds the guidance scale (LCM) never does.
     */
    @JsonIgnore
    public boolean guided() {
        return guidanceScale > 1.0;
    }

    /** The size the image is generated at, (height, width). */
    @JsonIgnore
    public Size imageSize() {
        return new Size(height, width);
    }

    /**
     * The fields only some model families read, by wire name, with whether this request sets each: a family
     * refuses those it does not honour ({@link RequestRules#honouredFields}).
     */
    @JsonIgnore
    public Map<String, Boolean> modelSpecificFields() {
        Map<String, Boolean> fields = new LinkedHashMap<>();
        fields.put("prompt_2", prompt2 != null);
        fields.put("negative_prompt_2", negativePrompt2 != null);
        fields.put("original_size", originalSize != null);
        fields.put("crops_coords_top_left", cropsCoordsTopLeft != null);
        fields.put("target_size", targetSize != null);
        fields.put("negative_original_size", negativeOriginalSize != null);
        fields.put("negative_crops_coords_top_left", negativeCropsCoordsTopLeft != null);
        fields.put("negative_target_size", negativeTargetSize != null);
        return fields;
    }
}
