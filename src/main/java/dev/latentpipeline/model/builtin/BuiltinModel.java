package dev.latentpipeline.model.builtin;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes the built-in tiny Stable Diffusion model: the standard ONNX export layout (model_index.json, scheduler/,
 * tokenizer/, text_encoder/, unet/, vae_decoder/, vae_encoder/; for SDXL also tokenizer_2/ and text_encoder_2/) with
 * models whose right answer is known exactly: a prompt's colour words decide a flat colour image (see the README,
 * "The built-in model", and {@link ExpectedImage}). Output is byte-identical on every run.
 */
public final class BuiltinModel {
    /** Width of the SD form's text encoder hidden states (encoder_hidden_states' last dim); SDXL's: BuiltinSdxl. */
    public static final int HIDDEN_SIZE = 32;
    /** Token sequence length (CLIP's model_max_length). */
    public static final int MAX_LENGTH = BuiltinTokenizer.MAX_LENGTH;
    /** SD 1.5's VAE latent scaling factor (the SD form's): the pipeline divides latents by it before decoding. */
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
            System.err.println("usage: BuiltinModel <output folder> [sdxl] [fp16 | fp16-fp32-vae] [v-prediction] "
                    + "[latent-parameters] [guidance-embedding] [lcm-scheduler]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        List<String> options = List.of(args).subList(1, args.length);
        Variant variant = options.contains("sdxl") ? Variant.SDXL : Variant.STANDARD;
        for (String option : options) {
            variant = switch (option) {
                case "sdxl" -> variant;
                case "fp16" -> variant.withPrecision(Precision.FP16);
                case "fp16-fp32-vae" -> variant.withPrecision(Precision.FP16_WITH_FP32_VAE);
                case "v-prediction" -> variant.withVPrediction();
                case "latent-parameters" -> variant.withLatentParameters();
                case "guidance-embedding" -> variant.withGuidanceEmbedding();
                case "lcm-scheduler" -> variant.withLcmScheduler();
                default -> throw new IllegalArgumentException("unknown variant option " + option);
            };
        }
        writeTo(dir, variant);
        System.out.println("built-in model " + variant + " written to " + dir.toAbsolutePath());
    }

    /** Which pipeline's export layout and conditioning to write. */
    public enum Family {
        /** SD 1.x: diffusers' OnnxStableDiffusionPipeline layout, one text encoder. */
        SD,
        /** SDXL: optimum's ORTStableDiffusionXLPipeline layout: two text encoders, text_embeds and time_ids. */
        SDXL
    }

    /** Element type of the models' float inputs and outputs. */
    public enum Precision {
        FP32,
        FP16,
        /** float16 text encoders and UNet with a float32 VAE, as exports whose VAE overflows in fp16 ship it. */
        FP16_WITH_FP32_VAE;

        boolean fp16Models() {
            return this != FP32;
        }

        boolean fp16Vae() {
            return this == FP16;
        }
    }

    /**
     * Which form of the model to write. Within a family the colour behaviour is the same in all of them, except that
     * a guidance-embedding UNet applies the guidance scale itself ({@link ExpectedImage}).
     *
     * @param family SD 1.x or SDXL layout and conditioning
     * @param precision FP16: float inputs and outputs declared float16, as {@code --fp16} exports
     * @param vPrediction the UNet predicts v (SD 2.x) and scheduler_config.json says prediction_type v_prediction;
     *        in the SD family the tokenizer pads with "!" as SD 2.x's does
     * @param latentParameters the VAE encoder outputs optimum's latent_parameters (mean, log-variance) instead of
     *        a latent_sample; {@link #SDXL} has it, as optimum writes every SDXL export
     * @param guidanceEmbedding the UNet takes {@code timestep_cond} [batch, 256], as LCM-distilled UNets do, and its
     *        config says time_cond_proj_dim 256; in the SD family model_index.json names
     *        ORTLatentConsistencyModelPipeline
     * @param lcmScheduler scheduler_config.json is an LCMScheduler's instead of the family's own (PNDM for SD,
     *        Euler for SDXL)
     */
    public record Variant(Family family, Precision precision, boolean vPrediction, boolean latentParameters,
            boolean guidanceEmbedding, boolean lcmScheduler) {
        public static final Variant STANDARD = new Variant(Family.SD, Precision.FP32, false, false, false, false);
        public static final Variant SDXL = new Variant(Family.SDXL, Precision.FP32, false, true, false, false);

        public Variant withPrecision(Precision p) {
            return new Variant(family, p, vPrediction, latentParameters, guidanceEmbedding, lcmScheduler);
        }

        public Variant withVPrediction() {
            return new Variant(family, precision, true, latentParameters, guidanceEmbedding, lcmScheduler);
        }

        public Variant withLatentParameters() {
            return new Variant(family, precision, vPrediction, true, guidanceEmbedding, lcmScheduler);
        }

        public Variant withGuidanceEmbedding() {
            return new Variant(family, precision, vPrediction, latentParameters, true, lcmScheduler);
        }

        public Variant withLcmScheduler() {
            return new Variant(family, precision, vPrediction, latentParameters, guidanceEmbedding, true);
        }

        String predictionType() {
            return vPrediction ? "v_prediction" : "epsilon";
        }
    }

    /** The guidance-embedding UNet's timestep_cond width, its config's time_cond_proj_dim. */
    public static final int TIME_COND_PROJ_DIM = GuidanceEmbeddingGraph.DIM;
    /** The latent_parameters encoder's log-variance: std 0.05 in the unscaled latent, small but visible. */
    public static final float ENCODER_LOG_VARIANCE = (float) (2 * Math.log(0.05));

    /** Writes the complete model set into {@code dir} (created if missing; existing files are overwritten). */
    public static void writeTo(Path dir) throws IOException {
        writeTo(dir, Variant.STANDARD);
    }

    public static void writeTo(Path dir, Precision precision) throws IOException {
        writeTo(dir, Variant.STANDARD.withPrecision(precision));
    }

    public static void writeTo(Path dir, Variant variant) throws IOException {
        switch (variant.family()) {
            case SD -> SdExport.write(dir, variant, ENCODE, DECODE);
            case SDXL -> SdxlExport.write(dir, variant, ENCODE, DECODE);
            default -> throw new IllegalArgumentException("unknown family " + variant.family());
        }
    }

    private static float[][] copy(float[][] m) {
        float[][] out = new float[m.length][];
        for (int i = 0; i < m.length; i++) {
            out[i] = m[i].clone();
        }
        return out;
    }
}
