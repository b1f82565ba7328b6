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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the built-in tiny Stable Diffusion model: the standard ONNX export layout (model_index.json, scheduler/,
 * tokenizer/, text_encoder/, unet/, vae_decoder/, vae_encoder/) with models whose right answer is known exactly: a
 * prompt's colour words decide a flat colour image (see the README, "The built-in model"). Output is byte-identical on every run.
 */
public final class BuiltinModel {
    /** Width of the text encoder's hidden states (encoder_hidden_states' last dim). */
    public static final int HIDDEN_SIZE = 32;
    /** Token sequence length (CLIP's model_max_length). */
    public static final int MAX_LENGTH = BuiltinTokenizer.MAX_LENGTH;
    /** SD 1.5's VAE latent scaling factor: the pipeline divides latents by it before decoding. */
    public static final float VAE_SCALING_FACTOR = 0.18215f;

    /**
     * E, 4x3: latent channels from a pixel (r, g, b in [-1, 1]). Orthogonal columns (Hadamard patterns) with norms
     * 4, 8 and 4: every latent channel mixes all three colours, the condition number is 2, and scaled latents span
     * about +-1.5 like SD's. Large columns make D small, which keeps the noise that schedulers ending at alphaBar_0
     * < 1 leave in the latent (about 0.03) small in pixels. All entries of E and D are exact in float32.
     */
    private static final float[][] ENCODE = {
        {2f, 4f, 2f},
        {2f, -4f, 2f},
        {2f, 4f, -2f},
        {2f, -4f, -2f},
    };
    /** D, 3x4: pixel from latent channels; E's pseudo-inverse (row i = column i of E / its squared norm), D E = I3. */
    private static final float[][] DECODE = {
        {0.125f, 0.125f, 0.125f, 0.125f},
        {0.0625f, -0.0625f, 0.0625f, -0.0625f},
        {0.125f, 0.125f, -0.125f, -0.125f},
    };

    private static final String DIFFUSERS_VERSION = "0.30.0";
    private static final ObjectWriter JSON = new ObjectMapper().writer(new DefaultPrettyPrinter()
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(DefaultPrettyPrinter.FixedSpaceIndenter.instance));

    private BuiltinModel() {
    }

    /** E (4x3), a fresh copy: unscaled latent = E v for a pixel v in [-1, 1]^3. */
    public static float[][] latentFromPixel() {
        return copy(ENCODE);
    }

    /** D (3x4), a fresh copy: pixel = D latent; D E = I3. */
    public static float[][] pixelFromLatent() {
        return copy(DECODE);
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: BuiltinModel <output folder> [fp16] [v-prediction] [latent-parameters]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        Variant variant = Variant.STANDARD;
        for (int i = 1; i < args.length; i++) {
            variant = switch (args[i]) {
                case "fp16" -> variant.withPrecision(Precision.FP16);
                case "v-prediction" -> variant.withVPrediction();
                case "latent-parameters" -> variant.withLatentParameters();
                default -> throw new IllegalArgumentException("unknown variant option " + args[i]);
            };
        }
        writeTo(dir, variant);
        System.out.println("built-in model " + variant + " written to " + dir.toAbsolutePath());
    }

    /** Element type of the models' float inputs and outputs. */
    public enum Precision { FP32, FP16 }

    /**
     * Which form of the model to write. The colour behaviour is the same in all of them.
     *
     * @param precision FP16: float inputs and outputs declared float16, as {@code --fp16} exports
     * @param vPrediction the UNet predicts v (SD 2.x) and scheduler_config.json says prediction_type v_prediction;
     *        the tokenizer pads with "!" as SD 2.x's does
     * @param latentParameters the VAE encoder outputs optimum's latent_parameters (mean, log-variance) instead of
     *        a latent_sample
     */
    public record Variant(Precision precision, boolean vPrediction, boolean latentParameters) {
        public static final Variant STANDARD = new Variant(Precision.FP32, false, false);

        public Variant withPrecision(Precision p) {
            return new Variant(p, vPrediction, latentParameters);
        }

        public Variant withVPrediction() {
            return new Variant(precision, true, latentParameters);
        }

        public Variant withLatentParameters() {
            return new Variant(precision, vPrediction, true);
        }
    }

    /** The latent_parameters encoder's log-variance: std 0.05 in the unscaled latent, small but visible. */
    public static final float ENCODER_LOG_VARIANCE = (float) (2 * Math.log(0.05));
    /** SD 2.x's tokenizer pads with "!" (id 0) instead of the end-of-text token. */
    static final String SD2_PAD_TOKEN = "!";

    /** Writes the complete model set into {@code dir} (created if missing; existing files are overwritten). */
    public static void writeTo(Path dir) throws IOException {
        writeTo(dir, Variant.STANDARD);
    }

    public static void writeTo(Path dir, Precision precision) throws IOException {
        writeTo(dir, Variant.STANDARD.withPrecision(precision));
    }

    public static void writeTo(Path dir, Variant variant) throws IOException {
        BuiltinTokenizer tokenizer = BuiltinTokenizer.create(BuiltinColors.COLORS.keySet());
        writeTokenizer(dir.resolve("tokenizer"), tokenizer,
                variant.vPrediction() ? SD2_PAD_TOKEN : BuiltinTokenizer.EOS);
        boolean fp16 = variant.precision() == Precision.FP16;

        List<Long> ids = new ArrayList<>();
        List<float[]> rgb = new ArrayList<>();
        BuiltinColors.COLORS.forEach((word, c) -> {
            ids.add((long) tokenizer.id(word + BuiltinTokenizer.END_OF_WORD));
            rgb.add(new float[] {c.r(), c.g(), c.b()});
        });
        write(dir.resolve("text_encoder/model.onnx"), fp16, TextEncoderGraph.build(
                ids.stream().mapToLong(Long::longValue).toArray(), rgb.toArray(float[][]::new),
                BuiltinColors.NO_COLOR, HIDDEN_SIZE, MAX_LENGTH));
        write(dir.resolve("unet/model.onnx"), fp16, UnetGraph.build(ENCODE, VAE_SCALING_FACTOR, NoiseSchedule.sigmas(),
                HIDDEN_SIZE, MAX_LENGTH, variant.vPrediction()));
        write(dir.resolve("vae_decoder/model.onnx"), fp16, VaeGraphs.decoder(DECODE));
        write(dir.resolve("vae_encoder/model.onnx"), fp16, variant.latentParameters()
                ? VaeGraphs.encoderParameters(ENCODE, ENCODER_LOG_VARIANCE) : VaeGraphs.encoder(ENCODE));
        writeConfigs(dir, tokenizer.vocab().size(), variant.vPrediction() ? "v_prediction" : "epsilon");
    }

    private static void write(Path file, boolean fp16, ModelProto model) throws IOException {
        write(file, fp16 ? Fp16Edges.convert(model) : model);
    }

    private static void writeTokenizer(Path dir, BuiltinTokenizer tokenizer, String pad) throws IOException {
        Files.createDirectories(dir);
        // vocab.json on one line, as CLIP's is.
        write(dir.resolve("vocab.json"), new ObjectMapper().writeValueAsString(tokenizer.vocab()) + "\n");
        write(dir.resolve("merges.txt"), "#version: 0.2\n" + String.join("\n", tokenizer.merges()) + "\n");
        Map<String, Object> special = new LinkedHashMap<>();
        special.put("bos_token", BuiltinTokenizer.BOS);
        special.put("eos_token", BuiltinTokenizer.EOS);
        special.put("pad_token", pad);
        special.put("unk_token", BuiltinTokenizer.EOS);
        writeJson(dir.resolve("special_tokens_map.json"), special);
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("add_prefix_space", false);
        config.put("bos_token", BuiltinTokenizer.BOS);
        config.put("clean_up_tokenization_spaces", true);
        config.put("do_lower_case", true);
        config.put("eos_token", BuiltinTokenizer.EOS);
        config.put("errors", "replace");
        config.put("model_max_length", MAX_LENGTH);
        config.put("pad_token", pad);
        config.put("tokenizer_class", "CLIPTokenizer");
        config.put("unk_token", BuiltinTokenizer.EOS);
        writeJson(dir.resolve("tokenizer_config.json"), config);
    }

    private static void writeConfigs(Path dir, int vocabSize, String predictionType) throws IOException {
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("_class_name", "OnnxStableDiffusionPipeline");
        index.put("_diffusers_version", DIFFUSERS_VERSION);
        index.put("feature_extractor", Arrays.asList(null, null));
        index.put("requires_safety_checker", false);
        index.put("safety_checker", Arrays.asList(null, null));
        index.put("scheduler", List.of("diffusers", "PNDMScheduler"));
        index.put("text_encoder", List.of("diffusers", "OnnxRuntimeModel"));
        index.put("tokenizer", List.of("transformers", "CLIPTokenizer"));
        index.put("unet", List.of("diffusers", "OnnxRuntimeModel"));
        index.put("vae_decoder", List.of("diffusers", "OnnxRuntimeModel"));
        index.put("vae_encoder", List.of("diffusers", "OnnxRuntimeModel"));
        writeJson(dir.resolve("model_index.json"), index);

        Map<String, Object> scheduler = new LinkedHashMap<>();
        scheduler.put("_class_name", "PNDMScheduler");
        scheduler.put("_diffusers_version", DIFFUSERS_VERSION);
        scheduler.put("beta_end", NoiseSchedule.BETA_END);
        scheduler.put("beta_schedule", "scaled_linear");
        scheduler.put("beta_start", NoiseSchedule.BETA_START);
        scheduler.put("clip_sample", false);
        scheduler.put("num_train_timesteps", NoiseSchedule.TRAIN_TIMESTEPS);
        scheduler.put("prediction_type", predictionType);
        scheduler.put("set_alpha_to_one", false);
        scheduler.put("skip_prk_steps", true);
        scheduler.put("steps_offset", 1);
        scheduler.put("timestep_spacing", "leading");
        scheduler.put("trained_betas", null);
        writeJson(dir.resolve("scheduler/scheduler_config.json"), scheduler);

        Map<String, Object> textEncoder = new LinkedHashMap<>();
        textEncoder.put("architectures", List.of("CLIPTextModel"));
        textEncoder.put("hidden_size", HIDDEN_SIZE);
        textEncoder.put("max_position_embeddings", MAX_LENGTH);
        textEncoder.put("model_type", "clip_text_model");
        textEncoder.put("vocab_size", vocabSize);
        writeJson(dir.resolve("text_encoder/config.json"), textEncoder);

        Map<String, Object> unet = new LinkedHashMap<>();
        unet.put("_class_name", "UNet2DConditionModel");
        unet.put("_diffusers_version", DIFFUSERS_VERSION);
        unet.put("cross_attention_dim", HIDDEN_SIZE);
        unet.put("in_channels", 4);
        unet.put("out_channels", 4);
        unet.put("sample_size", 64);
        writeJson(dir.resolve("unet/config.json"), unet);

        for (String part : List.of("vae_decoder", "vae_encoder")) {
            Map<String, Object> vae = new LinkedHashMap<>();
            vae.put("_class_name", "AutoencoderKL");
            vae.put("_diffusers_version", DIFFUSERS_VERSION);
            vae.put("in_channels", 3);
            vae.put("latent_channels", 4);
            vae.put("out_channels", 3);
            vae.put("sample_size", 64 * VaeGraphs.FACTOR);
            vae.put("scaling_factor", 0.18215);
            writeJson(dir.resolve(part + "/config.json"), vae);
        }
    }

    private static void write(Path file, ModelProto model) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, model.toByteArray());
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    private static void writeJson(Path file, Object value) throws IOException {
        write(file, JSON.writeValueAsString(value) + "\n");
    }

    private static float[][] copy(float[][] m) {
        float[][] out = new float[m.length][];
        for (int i = 0; i < m.length; i++) {
            out[i] = m[i].clone();
        }
        return out;
    }
}
