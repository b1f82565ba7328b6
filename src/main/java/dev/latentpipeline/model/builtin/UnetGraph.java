package dev.latentpipeline.model.builtin;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;

import static dev.latentpipeline.model.builtin.OnnxGraph.intAttr;

/**
 * UNet: the exact epsilon predictor for a target latent fixed by the prompt colour. With c the colour in
 * encoder_hidden_states[:, 0, 0:3], x0 = scaling * E (2c - 1); sigma(t) is the training sigma table linearly
 * interpolated at t (clamped to [0, 999]); eps = (x sqrt(1 + sigma^2) - x0) / sigma, the noise that a DDPM-style
 * scheduler removes to land on x0. {@link #targetLatent} and {@link #predictNoise} are shared with the SDXL UNet.
 */
final class UnetGraph {
    private static final Object[] SAMPLE_DIMS = {"batch", 4, "latent_height", "latent_width"};

    private UnetGraph() {
    }

    static ModelProto build(float[][] encode, float scaling, float[] sigmas, int hidden, int length) {
        return build(encode, scaling, sigmas, hidden, length, false, false);
    }

    /**
     * @param vPrediction output v = sqrt(abar) eps - sqrt(1 - abar) x0 = (eps - sigma x0) / sqrt(1 + sigma^2)
     *        instead of eps, as SD 2.x's v-prediction models do
     * @param guidanceEmbedding take {@code timestep_cond} and apply the guidance scale it encodes to the colour
     *        ({@link GuidanceEmbeddingGraph})
     */
    static ModelProto build(float[][] encode, float scaling, float[] sigmas, int hidden, int length,
            boolean vPrediction, boolean guidanceEmbedding) {
        OnnxGraph g = new OnnxGraph("builtin_unet");
        g.input("sample", DataType.FLOAT, SAMPLE_DIMS);
        g.input("timestep", DataType.FLOAT, "steps");
        g.input("encoder_hidden_states", DataType.FLOAT, "batch", length, hidden);
        if (guidanceEmbedding) {
            g.input(GuidanceEmbeddingGraph.INPUT, DataType.FLOAT, "batch", GuidanceEmbeddingGraph.DIM);
        }

        String color = g.op("Slice", "encoder_hidden_states", g.longs("slice_starts", 0, 0),
                g.longs("slice_ends", 1, 3), g.longs("slice_axes", 1, 2));               // [B, 1, 3]
        color = g.op("Reshape", color, g.longs("shape_b3", -1, 3));                        // [B, 3]
        if (guidanceEmbedding) {
            color = GuidanceEmbeddingGraph.guide(g, color);
        }
        String x0 = targetLatent(g, color, encode, scaling);
        predictNoise(g, x0, sigmas, vPrediction, SAMPLE_DIMS);
        String what = vPrediction ? "v-prediction" : "noise prediction";
        return g.toModel("Built-in tiny UNet: exact " + what + " towards the prompt colour's latent"
                + (guidanceEmbedding ? ", guidance scale from timestep_cond." : "."));
    }

    /** x0 = scaling E (2c - 1) as [B, 4, 1, 1] for the colour c [B, 3]. */
    static String targetLatent(OnnxGraph g, String color, float[][] encode, float scaling) {
        // x0 = v . (scaling E)^T as a [3, 4] right-hand matrix, scaled in double before rounding to float.
        float[] x0FromV = new float[3 * 4];
        for (int ch = 0; ch < 4; ch++) {
            for (int i = 0; i < 3; i++) {
                x0FromV[i * 4 + ch] = (float) ((double) scaling * encode[ch][i]);
            }
        }
        String v = g.op("Sub", g.op("Mul", color, g.scalar("two", 2f)), g.scalar("one", 1f));
        String x0 = g.op("MatMul", v, g.floats("x0_from_pixel", new long[] {3, 4}, x0FromV));
        return g.op("Reshape", x0, g.longs("shape_b411", -1, 4, 1, 1));
    }

    /**
     * Declares {@code out_sample}: eps (or v) for the input {@code sample} and the target x0, with sigma(t) read from
     * the input {@code timestep} ([steps], [1] or a scalar).
     */
    static void predictNoise(OnnxGraph g, String x0, float[] sigmas, boolean vPrediction, Object... sampleDims) {
        // sigma(t) by linear interpolation in the table, as diffusers' Euler scheduler's np.interp does.
        String t = g.op("Clip", "timestep", g.scalar("t_min", 0f), g.scalar("t_max", sigmas.length - 1));
        String lo = g.op("Floor", t);
        String hi = g.op("Ceil", t);
        String frac = g.op("Sub", t, lo);
        String table = g.floats("sigmas", new long[] {sigmas.length}, sigmas);
        String sigmaLo = g.op("Gather", table, g.op("Cast", intAttr("to", DataType.INT64.getNumber()), lo));
        String sigmaHi = g.op("Gather", table, g.op("Cast", intAttr("to", DataType.INT64.getNumber()), hi));
        String sigma = g.op("Add", sigmaLo, g.op("Mul", frac, g.op("Sub", sigmaHi, sigmaLo)));
        // [steps] or [] -> [steps, 1, 1, 1]: broadcasts over the batch for steps == batch and for steps == 1.
        sigma = g.op("Reshape", sigma, g.longs("shape_b111", -1, 1, 1, 1));
        String inputScale = g.op("Sqrt", g.op("Add", g.op("Mul", sigma, sigma), g.scalar("one", 1f)));

        String eps = g.op("Div", g.op("Sub", g.op("Mul", "sample", inputScale), x0), sigma);
        if (vPrediction) {
            String velocity = g.op("Div", g.op("Sub", eps, g.op("Mul", sigma, x0)), inputScale);
            g.output(velocity, "out_sample", DataType.FLOAT, sampleDims);
        } else {
            g.output(eps, "out_sample", DataType.FLOAT, sampleDims);
        }
    }
}
