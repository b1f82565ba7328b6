package dev.latentpipeline.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The standard ONNX Stable Diffusion export layout (diffusers' and optimum's): one folder per sub-model, each
 * with a model.onnx (and possibly external weight files beside it), plus tokenizer folders and scheduler/. Which
 * folders a model has and what their configs mean is its family's business ({@code model.family}).
 */
public record ModelLayout(Path root) {
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

    /** A sub-model folder's ONNX file ({@code <folder>/model.onnx}; external weights lie beside it). */
    public Path model(String folder) {
        return root.resolve(folder).resolve("model.onnx");
    }

    /** A folder of the export (a tokenizer's, a sub-model's). */
    public Path folder(String name) {
        return root.resolve(name);
    }

    /** Whether the export has this folder. */
    public boolean has(String folder) {
        return Files.isDirectory(root.resolve(folder));
    }

    /** model_index.json, when the export has one (diffusers and optimum write it). */
    public Optional<JsonNode> modelIndex() {
        return optionalJson(root.resolve("model_index.json"));
    }

    /** A sub-model's config.json (optimum writes one beside every model; diffusers' own ONNX export does not). */
    public Optional<JsonNode> config(String folder) {
        return optionalJson(root.resolve(folder).resolve("config.json"));
    }

    private static Optional<JsonNode> optionalJson(Path file) {
        return Files.isRegularFile(file) ? Optional.of(readJson(file)) : Optional.empty();
    }

    public static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
