package dev.latentpipeline.model.builtin;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;

import static dev.latentpipeline.model.builtin.OnnxGraph.intAttr;

/**
 * SDXL's two text encoders as optimum exports them with {@code output_hidden_states}: every layer's hidden states
 * ({@code hidden_states.0} = embeddings .. {@code hidden_states.N} = last layer), {@code last_hidden_state} (after the
 * final layer norm) and the pooled output, with symbolic batch and sequence dims. Each layer carries the prompt
 * colour c (mean RGB of its colour-word tokens, grey without any) at every position; only the penultimate layer,
 * the one SDXL reads, has its marker feature set to 1 ({@link BuiltinSdxl}).
 */
final class SdxlTextEncoderGraphs {
    private static final String BATCH = "batch_size";
    private static final String SEQUENCE = "sequence_length";

    private SdxlTextEncoderGraphs() {
    }

    /** text_encoder, a CLIPTextModel: int32 input_ids; outputs last_hidden_state, pooler_output, hidden_states.*. */
    static ModelProto textEncoder(BuiltinTokenizer tokenizer) {
        int hidden = BuiltinSdxl.HIDDEN_SIZE;
        OnnxGraph g = new OnnxGraph("builtin_sdxl_text_encoder");
        g.input("input_ids", DataType.INT32, BATCH, SEQUENCE);
        String rgb = promptColor(g, tokenizer);
        String base = g.op("MatMul", rgb, g.matrix("rgb_to_hidden", placement(hidden, BuiltinSdxl.COLOR_FEATURES_1)));
        Layers layers = layers(g, base, hidden, BuiltinSdxl.MARKER_FEATURE_1);
        g.output(layers.unmarked(), "last_hidden_state", DataType.FLOAT, BATCH, SEQUENCE, hidden);
        g.output(base, "pooler_output", DataType.FLOAT, BATCH, hidden);
        layers.declare(g, BuiltinSdxl.NUM_HIDDEN_LAYERS, hidden);
        return g.toModel("Built-in tiny SDXL text encoder (CLIPTextModel): prompt colour in features 0-2 of every "
                + "layer, marker feature 3 = 1 in the penultimate layer only.");
    }

    /**
     * text_encoder_2, a CLIPTextModelWithProjection: int64 input_ids; outputs text_embeds (first, as optimum orders
     * them and as diffusers' {@code prompt_embeds[0]} expects), last_hidden_state, hidden_states.*.
     */
    static ModelProto textEncoder2(BuiltinTokenizer tokenizer) {
        int hidden = BuiltinSdxl.HIDDEN_SIZE_2;
        OnnxGraph g = new OnnxGraph("builtin_sdxl_text_encoder_2");
        g.input("input_ids", DataType.INT64, BATCH, SEQUENCE);
        String rgb = promptColor(g, tokenizer);
        String base = g.op("MatMul", rgb, g.matrix("rgb_to_hidden", placement(hidden, BuiltinSdxl.COLOR_FEATURES_2)));
        Layers layers = layers(g, base, hidden, BuiltinSdxl.MARKER_FEATURE_2);
        int projection = BuiltinSdxl.PROJECTION_DIM_2;
        String toProjection = g.matrix("rgb_to_projection", placement(projection, BuiltinSdxl.POOLED_COLOR_FEATURES));
        String marker = g.floats("pooled_marker", new long[] {projection},
                unit(projection, BuiltinSdxl.POOLED_MARKER_FEATURE));
        String pooled = g.op("Add", g.op("MatMul", rgb, toProjection), marker);
        // optimum declares text_embeds with the dynamic axes {0: batch_size, 1: sequence_length}; dim 1 is
        // projection_dim all the same.
        g.output(pooled, "text_embeds", DataType.FLOAT, BATCH, SEQUENCE);
        g.output(layers.unmarked(), "last_hidden_state", DataType.FLOAT, BATCH, SEQUENCE, hidden);
        layers.declare(g, BuiltinSdxl.NUM_HIDDEN_LAYERS_2, hidden);
        return g.toModel("Built-in tiny SDXL text encoder 2 (CLIPTextModelWithProjection): prompt colour in features "
                + "0-2 as (b, r, g), marker feature 4 = 1 in the penultimate layer only; text_embeds: colour in 0-2, "
                + "marker 3 = 1.");
    }

    /**
     * The mean RGB [B, 3] of the colour-word tokens of input_ids, grey without any. A token embedding table
     * [vocab, 4] holds (r, g, b, 1) for colour tokens and zeros for the rest, as a model's weights would.
     */
    private static String promptColor(OnnxGraph g, BuiltinTokenizer tokenizer) {
        String table = g.matrix("token_embedding", tokenTable(tokenizer));
        String embedded = g.op("Gather", table, "input_ids");                                            // [B, L, 4]
        String sums = g.op("ReduceSum", intAttr("keepdims", 0), embedded, g.longs("axis_1", 1));        // [B, 4]
        String axis1 = g.longs("axes_1", 1);
        String rgbSum = g.op("Slice", sums, g.longs("rgb_start", 0), g.longs("rgb_end", 3), axis1);    // [B, 3]
        String count = g.op("Slice", sums, g.longs("count_start", 3), g.longs("count_end", 4), axis1); // [B, 1]
        String mean = g.op("Div", rgbSum, g.op("Max", count, g.scalar("one", 1f)));
        BuiltinColors.Rgb grey = BuiltinColors.NO_COLOR;
        return g.op("Where", g.op("Greater", count, g.scalar("zero", 0f)), mean,
                g.floats("no_color_rgb", new long[] {3}, grey.r(), grey.g(), grey.b()));
    }

    private static float[][] tokenTable(BuiltinTokenizer tokenizer) {
        float[][] table = new float[tokenizer.vocab().size()][4];
        BuiltinColors.COLORS.forEach((word, c) -> {
            int id = tokenizer.id(word + BuiltinTokenizer.END_OF_WORD);
            table[id] = new float[] {c.r(), c.g(), c.b(), 1};
        });
        return table;
    }

    /** [3, width]: row ch has a 1 in column features[ch]. */
    private static float[][] placement(int width, int[] features) {
        float[][] m = new float[3][width];
        for (int ch = 0; ch < 3; ch++) {
            m[ch][features[ch]] = 1;
        }
        return m;
    }

    private static float[] unit(int width, int feature) {
        float[] v = new float[width];
        v[feature] = 1;
        return v;
    }

    /** The per-position layers, each [B, L, hidden]: {@code unmarked} (marker 0) and {@code penultimate} (1). */
    private record Layers(String unmarked, String penultimate) {
        /** hidden_states.0 .. hidden_states.N; only N - 1 is the penultimate one. */
        void declare(OnnxGraph g, int layerCount, int hidden) {
            for (int j = 0; j <= layerCount; j++) {
                g.output(j == layerCount - 1 ? penultimate : unmarked, "hidden_states." + j, DataType.FLOAT,
                        BATCH, SEQUENCE, hidden);
            }
        }
    }

    private static Layers layers(OnnxGraph g, String base, int hidden, int markerFeature) {
        // [1, L, 1] from input_ids' own sequence length, so any length works (diffusers pads to 77).
        String length = g.op("Slice", g.op("Shape", "input_ids"), g.longs("length_start", 1), g.longs("length_end", 2));
        String one = g.longs("one_dim", 1);
        String positions = g.op("Concat", intAttr("axis", 0), one, length, one);
        String penultimate = g.op("Add", base, g.floats("penultimate_marker", new long[] {hidden}, unit(hidden,
                markerFeature)));
        return new Layers(perPosition(g, base, positions), perPosition(g, penultimate, positions));
    }

    private static String perPosition(OnnxGraph g, String vector, String positions) {
        return g.op("Expand", g.op("Unsqueeze", vector, g.longs("axis_1", 1)), positions);
    }
}
