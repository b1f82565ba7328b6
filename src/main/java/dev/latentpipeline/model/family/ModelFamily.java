package dev.latentpipeline.model.family;

import dev.latentpipeline.model.LatentScaling;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.RequestRules;
import dev.latentpipeline.tensor.FloatTensor;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What a model family (SD 1.x, SD 2.x, SDXL) decides, read from the export ({@link ModelFamilies#detect}): which
 * sub-models run, how a request becomes conditioning and which UNet inputs that feeds, the latent geometry and the
 * request contract's model-specific part. Stages ask it instead of branching on the family; the work itself
 * (tokenizing, running models, stacking rows) stays in the stages.
 */
public interface ModelFamily extends RequestRules {
    /** "SD 1.x", "SD 2.x", "SDXL". */
    String name();

    /**
     * Which latent space the VAE makes ("sd" for SD 1.x and 2.x, "sdxl"): previews map latents to colours with
     * factors published per latent space.
     */
    default String latentSpace() {
        return "sd";
    }

    @Override
    default String modelName() {
        return name();
    }

    /** The text encoders, in the order their hidden states are concatenated on the feature axis. */
    List<TextEncoderSpec> textEncoders();

    /** The text each encoder reads (parallel to {@link #textEncoders}) for the conditional side. */
    List<PromptText> prompts(GenerationRequest request);

    /**
     * The text each encoder reads for the unconditional side, or empty when that side is all zeros (SDXL's
     * force_zeros_for_empty_prompt with no negative_prompt at all).
     */
    Optional<List<PromptText>> negativePrompts(GenerationRequest request);

    /**
     * Conditioning made from the request alone, by wire name, [1, ...] each (SDXL's time ids); the unconditional
     * side's only when {@code guided}.
     */
    Map<String, FloatTensor> requestConditioning(GenerationRequest request, boolean guided);

    /** Notes for the user about how this family reads the request (fields diffusers ignores in a mode, say). */
    List<String> requestNotes(GenerationRequest request);

    /** The UNet's inputs besides sample, timestep and timestep_cond, and the wire tensors feeding them. */
    List<UnetInput> unetInputs();

    /** unet/config.json's time_cond_proj_dim: the UNet takes the guidance scale embedded as timestep_cond (LCM). */
    OptionalInt timeCondProjDim();

    /** The UNet's latent channels (unet/config.json in_channels; 4 for every family here). */
    int latentChannels();

    /** Image pixels per latent pixel along each axis: diffusers' vae_scale_factor. */
    int vaeScaleFactor();

    /** The VAE's latent scaling (scaling_factor; latents_mean / latents_std where given). */
    LatentScaling latentScaling();

    /** Whether the VAE config says it overflows in fp16 (force_upcast). */
    boolean vaeForceUpcast();

    /**
     * Whether the UNet runs the unconditional pass: diffusers' {@code guidance_scale > 1 and
     * unet.config.time_cond_proj_dim is None}. A UNet with guidance embedding guides itself in one pass.
     */
    default boolean classifierFreeGuidance(GenerationRequest request) {
        return request.guided() && timeCondProjDim().isEmpty();
    }
}
