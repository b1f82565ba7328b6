package dev.latentpipeline.model.family;

import com.fasterxml.jackson.databind.JsonNode;
import dev.latentpipeline.model.LatentScaling;
import dev.latentpipeline.model.ModelException;
import dev.latentpipeline.model.ModelLayout;
import java.util.Optional;

/**
 * The JSON an export carries besides its models, read once: model_index.json (the pipeline class and its options)
 * and the sub-models' config.json files. Absent files and keys read as absent (diffusers' own ONNX export writes
 * no sub-model configs); each family supplies its own defaults for them.
 */
public final class ExportConfigs {
    private final ModelLayout layout;
    private final JsonNode index;
    private final JsonNode unet;
    private final JsonNode vae;

    private ExportConfigs(ModelLayout layout) {
        this.layout = layout;
        this.index = layout.modelIndex().orElse(null);
        this.unet = layout.config("unet").orElse(null);
        this.vae = layout.config("vae_decoder").or(() -> layout.config("vae_encoder"))
                .or(() -> layout.config("vae")).orElse(null);
    }

    public static ExportConfigs read(ModelLayout layout) {
        return new ExportConfigs(layout);
    }

    public ModelLayout layout() {
        return layout;
    }

    /** model_index.json's {@code _class_name}: the pipeline the export was saved from. */
    public Optional<String> pipelineClass() {
        return text(index, "_class_name");
    }

    /** A boolean option of model_index.json (force_zeros_for_empty_prompt, requires_aesthetics_score). */
    public Optional<Boolean> pipelineOption(String key) {
        JsonNode node = index == null ? null : index.get(key);
        return node != null && node.isBoolean() ? Optional.of(node.booleanValue()) : Optional.empty();
    }

    /** A whole-number key of unet/config.json. */
    public Optional<Integer> unetInt(String key) {
        return integer(unet, key, "unet/config.json");
    }

    public Optional<String> unetText(String key) {
        return text(unet, key);
    }

    /** A whole-number key of a text encoder's config.json (num_hidden_layers, hidden_size, projection_dim). */
    public Optional<Integer> textEncoderInt(String folder, String key) {
        return integer(layout.config(folder).orElse(null), key, folder + "/config.json");
    }

    /** The pad token of a tokenizer folder, as Hugging Face reads it (special_tokens_map.json, then the config). */
    public Optional<String> padToken(String tokenizerFolder) {
        for (String file : new String[] {"special_tokens_map.json", "tokenizer_config.json"}) {
            java.nio.file.Path path = layout.folder(tokenizerFolder).resolve(file);
            if (java.nio.file.Files.isRegularFile(path)) {
                JsonNode pad = ModelLayout.readJson(path).get("pad_token");
                if (pad != null && pad.isTextual()) {
                    return Optional.of(pad.textValue());
                }
                if (pad != null && pad.path("content").isTextual()) {
                    return Optional.of(pad.get("content").textValue());
                }
            }
        }
        return Optional.empty();
    }

    /** diffusers' vae_scale_factor: 2 ** (len(block_out_channels) - 1), 8 when the config does not say. */
    public int vaeScaleFactor() {
        JsonNode blocks = vae == null ? null : vae.get("block_out_channels");
        if (blocks == null || !blocks.isArray() || blocks.isEmpty()) {
            return 8;
        }
        return 1 << (blocks.size() - 1);
    }

    /** The VAE's latent scaling: scaling_factor (or {@code fallback}), with latents_mean/latents_std when given. */
    public LatentScaling latentScaling(float fallback) {
        JsonNode factor = vae == null ? null : vae.get("scaling_factor");
        float scaling = factor != null && factor.isNumber() ? factor.floatValue() : fallback;
        return new LatentScaling(scaling, floats(vae, "latents_mean"), floats(vae, "latents_std"));
    }

    /** The VAE config's force_upcast: its author says it overflows in fp16. */
    public boolean vaeForceUpcast() {
        JsonNode node = vae == null ? null : vae.get("force_upcast");
        return node != null && node.asBoolean(false);
    }

    private static Optional<String> text(JsonNode json, String key) {
        JsonNode node = json == null ? null : json.get(key);
        return node != null && node.isTextual() ? Optional.of(node.textValue()) : Optional.empty();
    }

    private static Optional<Integer> integer(JsonNode json, String key, String file) {
        JsonNode node = json == null ? null : json.get(key);
        if (node == null || node.isNull()) {
            return Optional.empty();
        }
        if (!node.canConvertToInt() || !node.isIntegralNumber()) {
            throw new ModelException(file + ": " + key + " must be a whole number, got " + node);
        }
        return Optional.of(node.intValue());
    }

    private static float[] floats(JsonNode json, String key) {
        JsonNode node = json == null ? null : json.get(key);
        if (node == null || !node.isArray()) {
            return null;
        }
        float[] out = new float[node.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = node.get(i).floatValue();
        }
        return out;
    }
}
