package dev.latentpipeline.vae;

import dev.latentpipeline.model.OnnxModel;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Tensors;
import java.util.Map;

/** The door from latent space to pixels: latents / scaling factor, decoded to an image in [-1, 1]. */
public final class VaeDecoder {
    private final OnnxModel model;
    private final String latentInput;
    private final float scalingFactor;

    public VaeDecoder(OnnxModel model, float scalingFactor) {
        this.model = model;
        this.latentInput = model.firstInputNamed("latent_sample", "latent", "z");
        this.scalingFactor = scalingFactor;
    }

    /** Decodes latents [n, 4, h, w] to images [n, 3, 8h, 8w] with values nominally in [-1, 1]. */
    public FloatTensor decode(FloatTensor latents) {
        FloatTensor unscaled = Tensors.scale(latents, 1f / scalingFactor);
        Map<String, FloatTensor> outputs = model.run(Map.of(latentInput, unscaled));
        return outputs.containsKey("sample") ? outputs.get("sample") : outputs.values().iterator().next();
    }
}
