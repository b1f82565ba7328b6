package dev.latentpipeline.model.builtin;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;

import static dev.latentpipeline.model.builtin.OnnxGraph.intAttr;

/**
 * The SDXL UNet, with optimum's inputs: {@code sample}, a scalar {@code timestep}, {@code encoder_hidden_states}
 * [batch, sequence, 80], optionally {@code timestep_cond}, then {@code text_embeds} [batch, 40] and {@code time_ids}
 * [batch, 6]. It reads only position 0 of encoder_hidden_states. The conditioning colour is affine in the features
 * that carry colours and markers ({@link BuiltinSdxl}):
 *
 * <pre>
 *   c = 0.5 c1 + 0.25 c2 + 0.25 p + s1 (1 - m1) + s2 (1 - m2) + s3 (1 - m3)
 * </pre>
 *
 * then the time ids scale and tint it, and the prediction is the exact noise (or v) towards x0 = 0.13025 E (2c - 1),
 * as in {@link UnetGraph}.
 */
final class SdxlUnetGraph {
    private static final String BATCH = "batch_size";
    private static final Object[] SAMPLE_DIMS = {BATCH, 4, "height", "width"};

    private SdxlUnetGraph() {
    }

    static ModelProto build(float[][] encode, float[] sigmas, boolean vPrediction, boolean guidanceEmbedding) {
        int width = BuiltinSdxl.CROSS_ATTENTION_DIM;
        OnnxGraph g = new OnnxGraph("builtin_sdxl_unet");
        g.input("sample", DataType.FLOAT, SAMPLE_DIMS);
        g.input("timestep", DataType.FLOAT);  // a scalar, as current optimum exports declare it
        g.input("encoder_hidden_states", DataType.FLOAT, BATCH, "sequence_length", width);
        if (guidanceEmbedding) {
            g.input(GuidanceEmbeddingGraph.INPUT, DataType.FLOAT, BATCH, GuidanceEmbeddingGraph.DIM);
        }
        g.input("text_embeds", DataType.FLOAT, BATCH, BuiltinSdxl.PROJECTION_DIM_2);
        g.input("time_ids", DataType.FLOAT, BATCH, BuiltinSdxl.TIME_IDS);

        String first = g.op("Slice", "encoder_hidden_states", g.longs("first_start", 0), g.longs("first_end", 1),
                g.longs("axis_1", 1));                                                              // [B, 1, 80]
        first = g.op("Reshape", first, g.longs("shape_features", -1, width));                        // [B, 80]
        String color = g.op("Add", g.op("Add",
                g.op("MatMul", first, g.matrix("color_from_hidden", fromHiddenStates())),
                g.op("MatMul", "text_embeds", g.matrix("color_from_pooled", fromPooled()))),
                g.floats("zero_conditioning_color", new long[] {3}, rgb(BuiltinSdxl.ZERO_CONDITIONING)));
        if (guidanceEmbedding) {
            color = GuidanceEmbeddingGraph.guide(g, color);
        }
        color = applyTimeIds(g, color);
        String x0 = UnetGraph.targetLatent(g, color, encode, (float) BuiltinSdxl.VAE_SCALING_FACTOR);
        UnetGraph.predictNoise(g, x0, sigmas, vPrediction, SAMPLE_DIMS);
        return g.toModel("Built-in tiny SDXL UNet: exact " + (vPrediction ? "v-prediction" : "noise prediction")
                + " towards the colour of both encoders' penultimate layers, text_embeds and time_ids"
                + (guidanceEmbedding ? ", guidance scale from timestep_cond." : "."));
    }

    /** c' = b c + d with brightness b and tint d from time_ids relative to the image size (8 x the latent's). */
    private static String applyTimeIds(OnnxGraph g, String color) {
        String latentSize = g.op("Slice", g.op("Shape", "sample"), g.longs("hw_start", 2), g.longs("hw_end", 4));
        String imageSize = g.op("Mul", g.op("Cast", intAttr("to", DataType.FLOAT.getNumber()), latentSize),
                g.scalar("vae_factor", VaeGraphs.FACTOR));                                           // [H, W]
        String perId = g.op("Concat", intAttr("axis", 0), imageSize, imageSize, imageSize);          // [6]
        String ratios = g.op("Div", "time_ids", perId);                                              // [B, 6]
        AttributeProto axis1 = intAttr("axis", 1);
        String brightness = g.op("Mul", g.op("Gather", axis1, ratios, g.longs("target_h", 4)),
                g.op("Gather", axis1, ratios, g.longs("target_w", 5)));                             // [B, 1]
        float gain = BuiltinSdxl.TIME_ID_GAIN;
        float[][] tintFromRatios = {
            {gain, 0, 0},   // original height
            {0, gain, 0},   // original width
            {0, 0, gain},   // crop top
            {0, 0, gain},   // crop left
            {0, 0, 0},      // target height
            {0, 0, 0},      // target width
        };
        String tint = g.op("Add", g.op("MatMul", ratios, g.matrix("tint_from_time_ids", tintFromRatios)),
                g.floats("tint_offset", new long[] {3}, -gain, -gain, 0));
        return g.op("Add", g.op("Mul", brightness, color), tint);
    }

    /** [80, 3]: 0.5 c1 from features 0-2, 0.25 c2 from 32 + (1, 2, 0), and -s for each marker. */
    private static float[][] fromHiddenStates() {
        float[][] m = new float[BuiltinSdxl.CROSS_ATTENTION_DIM][3];
        int second = BuiltinSdxl.HIDDEN_SIZE;
        for (int ch = 0; ch < 3; ch++) {
            m[BuiltinSdxl.COLOR_FEATURES_1[ch]][ch] = BuiltinSdxl.WEIGHT_1;
            m[second + BuiltinSdxl.COLOR_FEATURES_2[ch]][ch] = BuiltinSdxl.WEIGHT_2;
        }
        m[BuiltinSdxl.MARKER_FEATURE_1] = negated(BuiltinSdxl.MISSING_MARKER_1);
        m[second + BuiltinSdxl.MARKER_FEATURE_2] = negated(BuiltinSdxl.MISSING_MARKER_2);
        return m;
    }

    /** [40, 3]: 0.25 p from features 0-2 and -s3 for the marker. */
    private static float[][] fromPooled() {
        float[][] m = new float[BuiltinSdxl.PROJECTION_DIM_2][3];
        for (int ch = 0; ch < 3; ch++) {
            m[BuiltinSdxl.POOLED_COLOR_FEATURES[ch]][ch] = BuiltinSdxl.POOLED_WEIGHT;
        }
        m[BuiltinSdxl.POOLED_MARKER_FEATURE] = negated(BuiltinSdxl.MISSING_POOLED_MARKER);
        return m;
    }

    private static float[] negated(BuiltinColors.Rgb shift) {
        return new float[] {-shift.r(), -shift.g(), -shift.b()};
    }

    private static float[] rgb(BuiltinColors.Rgb c) {
        return new float[] {c.r(), c.g(), c.b()};
    }
}
