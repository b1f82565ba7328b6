package dev.latentpipeline.model.builtin;

import dev.latentpipeline.model.builtin.BuiltinColors.Rgb;

/**
 * The facts of the built-in model's SDXL form (README, "The built-in model", SDXL): sizes in the roles SDXL's
 * sizes have, and where the colour and the layer markers sit in each conditioning tensor. The graphs and
 * {@link ExpectedImage} both read them from here.
 */
public final class BuiltinSdxl {
    /** text_encoder (CLIP ViT-L's role): hidden size and layers; hidden_states.0 .. hidden_states.2. */
    public static final int HIDDEN_SIZE = 32;
    public static final int NUM_HIDDEN_LAYERS = 2;
    /** text_encoder_2 (OpenCLIP bigG's role): hidden size and layers; hidden_states.0 .. hidden_states.3. */
    public static final int HIDDEN_SIZE_2 = 48;
    public static final int NUM_HIDDEN_LAYERS_2 = 3;
    /** Differs from HIDDEN_SIZE_2 on purpose: text_embeds' width is projection_dim, never hidden_size. */
    public static final int PROJECTION_DIM_2 = 40;
    /** encoder_hidden_states' width: both penultimate layers concatenated, text_encoder's first. */
    public static final int CROSS_ATTENTION_DIM = HIDDEN_SIZE + HIDDEN_SIZE_2;
    /** original size (h, w), crop top-left (top, left), target size (h, w). */
    public static final int TIME_IDS = 6;
    /** UNet config: projection_class_embeddings_input_dim = TIME_IDS * this + PROJECTION_DIM_2, as SDXL's. */
    public static final int ADDITION_TIME_EMBED_DIM = 8;
    /** UNet sample_size: the default image is 128 * 8 = 1024 pixels square, SDXL's native size. */
    public static final int SAMPLE_SIZE = 128;
    /** SDXL's VAE scaling factor. */
    public static final double VAE_SCALING_FACTOR = 0.13025;

    /**
     * The conditioning colour: c = WEIGHT_1 c1 + WEIGHT_2 c2 + POOLED_WEIGHT p, with c1 from text_encoder's
     * penultimate layer (prompt), c2 from text_encoder_2's (prompt_2) and p from text_embeds (prompt_2): the mean of
     * the two prompts' colours when every input is right.
     */
    public static final float WEIGHT_1 = 0.5f;
    public static final float WEIGHT_2 = 0.25f;
    public static final float POOLED_WEIGHT = 0.25f;
    /**
     * The time ids' effect, with (H, W) the image size (8 x the latent's): c' = b c + d, brightness
     * b = (target_h / H) (target_w / W) and tint d = TIME_ID_GAIN (orig_h / H - 1, orig_w / W - 1,
     * crop_top / H + crop_left / W): b = 1 and d = 0 for diffusers' defaults.
     */
    public static final float TIME_ID_GAIN = 0.5f;

    /**
     * What the UNet adds to the colour when a marker is 0 instead of 1: text_encoder's penultimate-layer marker,
     * text_encoder_2's, and text_embeds'. Each has a channel that rises and one that falls, so a missing marker shows
     * on red, green, blue, white and black alike.
     */
    public static final Rgb MISSING_MARKER_1 = new Rgb(-0.25f, 0.25f, 0.25f);
    public static final Rgb MISSING_MARKER_2 = new Rgb(0.25f, -0.25f, 0.25f);
    public static final Rgb MISSING_POOLED_MARKER = new Rgb(0.25f, 0.25f, -0.25f);
    /**
     * The colour of all-zero conditioning (zero embeddings and zero text_embeds, SDXL's negative side without a
     * negative prompt): every marker missing, (0.25, 0.25, 0.25).
     */
    public static final Rgb ZERO_CONDITIONING = new Rgb(
            MISSING_MARKER_1.r() + MISSING_MARKER_2.r() + MISSING_POOLED_MARKER.r(),
            MISSING_MARKER_1.g() + MISSING_MARKER_2.g() + MISSING_POOLED_MARKER.g(),
            MISSING_MARKER_1.b() + MISSING_MARKER_2.b() + MISSING_POOLED_MARKER.b());

    /** text_encoder: the colour in features 0-2 (r, g, b) of every layer, the marker in feature 3. */
    static final int[] COLOR_FEATURES_1 = {0, 1, 2};
    static final int MARKER_FEATURE_1 = 3;
    /**
     * text_encoder_2: the colour of prompt_2 in features 0-2 in the order (b, r, g), so a swapped concatenation
     * reads it as text_encoder's colour in the wrong channels; feature 3 stays 0 and the marker is feature 4, so a
     * swapped concatenation also reads text_encoder's marker as 0.
     */
    static final int[] COLOR_FEATURES_2 = {1, 2, 0};
    static final int MARKER_FEATURE_2 = 4;
    /** text_embeds: the colour of prompt_2 in features 0-2 (r, g, b), the marker in feature 3. */
    static final int[] POOLED_COLOR_FEATURES = {0, 1, 2};
    static final int POOLED_MARKER_FEATURE = 3;

    private BuiltinSdxl() {
    }
}
