package dev.latentpipeline.model.builtin;

import ai.onnx.proto.OnnxMl.ModelProto;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writing the files of an export folder: ONNX models (inline or with external data), JSON configs as diffusers
 * writes them (two-space indent, keys in a fixed order), tokenizer folders and scheduler configs.
 */
final class ExportFiles {
    static final String DIFFUSERS_VERSION = "0.30.0";
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final ObjectWriter JSON = MAPPER.writer(new DefaultPrettyPrinter()
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(DefaultPrettyPrinter.FixedSpaceIndenter.instance));

    private ExportFiles() {
    }

    /** Writes the model, its float edges converted to float16 when {@code fp16}. */
    static void model(Path file, boolean fp16, ModelProto model) throws IOException {
        write(file, (fp16 ? Fp16Edges.convert(model) : model).toByteArray());
    }

    /** Writes the model with its large initializers in {@value ExternalData#LOCATION} beside it. */
    static void modelWithExternalData(Path file, boolean fp16, ModelProto model) throws IOException {
        ExternalData.Split split = ExternalData.split(fp16 ? Fp16Edges.convert(model) : model);
        write(file, split.model().toByteArray());
        write(file.resolveSibling(ExternalData.LOCATION), split.data());
    }

    static void tokenizer(Path dir, BuiltinTokenizer tokenizer, String pad) throws IOException {
        Files.createDirectories(dir);
        // vocab.json on one line, as CLIP's is.
        text(dir.resolve("vocab.json"), MAPPER.writeValueAsString(tokenizer.vocab()) + "\n");
        text(dir.resolve("merges.txt"), "#version: 0.2\n" + String.join("\n", tokenizer.merges()) + "\n");
        Map<String, Object> special = new LinkedHashMap<>();
        special.put("bos_token", BuiltinTokenizer.BOS);
        special.put("eos_token", BuiltinTokenizer.EOS);
        special.put("pad_token", pad);
        special.put("unk_token", BuiltinTokenizer.EOS);
        json(dir.resolve("special_tokens_map.json"), special);
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("add_prefix_space", false);
        config.put("bos_token", BuiltinTokenizer.BOS);
        config.put("clean_up_tokenization_spaces", true);
        config.put("do_lower_case", true);
        config.put("eos_token", BuiltinTokenizer.EOS);
        config.put("errors", "replace");
        config.put("model_max_length", BuiltinTokenizer.MAX_LENGTH);
        config.put("pad_token", pad);
        config.put("tokenizer_class", "CLIPTokenizer");
        config.put("unk_token", BuiltinTokenizer.EOS);
        json(dir.resolve("tokenizer_config.json"), config);
    }

    /** The preview decoder's config.json, as diffusers writes AutoencoderTiny's: pixels in [-1, 1]. */
    static java.util.Map<String, Object> previewDecoderConfig() {
        java.util.Map<String, Object> config = new java.util.LinkedHashMap<>();
        config.put("_class_name", "AutoencoderTiny");
        config.put("_diffusers_version", DIFFUSERS_VERSION);
        config.put("latent_channels", 4);
        config.put("scaling_factor", 1.0);
        return config;
    }

    static void json(Path file, Object value) throws IOException {
        text(file, JSON.writeValueAsString(value) + "\n");
    }

    private static void text(Path file, String text) throws IOException {
        write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    private static void write(Path file, byte[] bytes) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
    }
}
