package dev.latentpipeline.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The standard ONNX Stable Diffusion export layout (diffusers' and optimum's): one folder per sub-model, each
 * with a model.onnx (and possibly external weight files beside it), plus tokenizer/ and scheduler/.
 */
public record ModelLayout(Path root) {
    /** SD 1.x's VAE scaling factor, used when the export does not state one. */
    public static final float DEFAULT_VAE_SCALING_FACTOR = 0.18215f;

    private static final ObjectMapper JSON = new ObjectMapper();

    public static ModelLayout open(Path root) {
        if (!Files.isDirectory(root)) {
            throw new ModelException("model directory " + root.toAbsolutePath() + " does not exist");
        }
        return new ModelLayout(root.toAbsolutePath().normalize());
    }

    public Path textEncoder() {
        return root.resolve("text_encoder").resolve("model.onnx");
    }

    public Path unet() {
        return root.resolve("unet").resolve("model.onnx");
    }

    public Path vaeDecoder() {
        return root.resolve("vae_decoder").resolve("model.onnx");
    }

    public Path vaeEncoder() {
        return root.resolve("vae_encoder").resolve("model.onnx");
    }

    public Path tokenizerDir() {
        return root.resolve("tokenizer");
    }

    public Path schedulerConfig() {
        return root.resolve("scheduler").resolve("scheduler_config.json");
    }

    /**
     * The VAE's latent scaling factor: optimum writes the VAE config beside each VAE part; diffusers' own ONNX
     * export writes none, and SD 1.x's 0.18215 applies.
     */
    public float vaeScalingFactor() {
        for (String folder : new String[] {"vae_decoder", "vae_encoder", "vae"}) {
            Path config = root.resolve(folder).resolve("config.json");
            if (Files.isRegularFile(config)) {
                JsonNode factor = readJson(config).get("scaling_factor");
                if (factor != null && factor.isNumber()) {
                    return factor.floatValue();
                }
            }
        }
        return DEFAULT_VAE_SCALING_FACTOR;
    }

    public static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
