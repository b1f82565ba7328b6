package dev.latentpipeline.vae;

import dev.latentpipeline.model.LatentScaling;
import dev.latentpipeline.model.OnnxModel;
import dev.latentpipeline.tensor.FloatTensor;
import java.util.Map;

/**
 * The door from latent space to pixels: latents unscaled as the VAE config says (latents / scaling_factor, or
 * latents * latents_std / scaling_factor + latents_mean), decoded to an image in [-1, 1]. A decoder that returns NaN
 * or infinity (an fp16 VAE overflowing) fails in {@link OnnxModel#run} with a model error.
 */
public final class VaeDecoder {
    private final OnnxModel model;
    private final String latentInput;
    private final LatentScaling scaling;

    /** A decoder for latents with SD 1.x's plain scaling_factor. */
    public VaeDecoder(OnnxModel model, float scalingFactor) {
        this(model, LatentScaling.of(scalingFactor));
    }

    public VaeDecoder(OnnxModel model, LatentScaling scaling) {
        this.model = model;
        this.latentInput = model.firstInputNamed("latent_sample", "latent", "z");
        this.scaling = scaling;
    }

    /** Decodes latents [n, c, h, w] to images [n, 3, f h, f w] with values nominally in [-1, 1]. */
    public FloatTensor decode(FloatTensor latents) {
        Map<String, FloatTensor> outputs = model.run(Map.of(latentInput, scaling.toVae(latents)));
        return outputs.containsKey("sample") ? outputs.get("sample") : outputs.values().iterator().next();
    }
}
