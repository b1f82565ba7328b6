package dev.latentpipeline.denoise;

import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Tensors;
import java.util.Map;

/**
 * The UNet's text conditioning for one job's rows: the prompt embeddings once per image, preceded by the negative
 * prompt's once per image when guidance needs the unconditional pass ([uncond x n, cond x n]).
 */
final class TextConditioning {
    private TextConditioning() {
    }

    /** @param negative null without guidance */
    static Map<String, FloatTensor> rows(UNet unet, FloatTensor prompt, FloatTensor negative, int images) {
        FloatTensor hidden = negative != null
                ? Tensors.concat(Tensors.repeat(negative, images), Tensors.repeat(prompt, images))
                : Tensors.repeat(prompt, images);
        return Map.of(unet.hiddenInput(), hidden);
    }
}
