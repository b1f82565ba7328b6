package dev.latentpipeline.preview;

import com.fasterxml.jackson.databind.JsonNode;
import dev.latentpipeline.model.ModelLayout;
import dev.latentpipeline.model.OnnxModel;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Tensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * TAESD, the tiny approximate VAE decoder (about 1 M parameters against the real decoder's 50 M): latents as the
 * UNet sees them in, an image at full size out. diffusers' AutoencoderTiny (config.json {@code _class_name}) gives
 * pixels in [-1, 1] like the real VAE; the original TAESD (no config) gives [0, 1].
 */
final class TaesdDecoder {
    private final OnnxModel model;
    private final String input;
    private final boolean signed;

    TaesdDecoder(OnnxModel model, Path folder) {
        this.model = model;
        this.input = model.inputs().keySet().iterator().next();
        Path config = folder.resolve("config.json");
        boolean diffusers = false;
        if (Files.isRegularFile(config)) {
            JsonNode name = ModelLayout.readJson(config).get("_class_name");
            diffusers = name != null && name.asText().equals("AutoencoderTiny");
        }
        this.signed = diffusers;
    }

    /** Image {@code index} of latents [n, 4, h, w] as pixels [1, 3, H, W] in [-1, 1]. */
    FloatTensor decode(FloatTensor latents, int index) {
        FloatTensor out = model.run(Map.of(input, Tensors.slice(latents, index, index + 1))).values().iterator().next();
        return signed ? out : Tensors.affine(out, 2f, -1f);
    }
}
