package dev.latentpipeline.model.builtin;

import ai.onnx.proto.OnnxMl.AttributeProto;

import static dev.latentpipeline.model.builtin.OnnxGraph.intAttr;
import static dev.latentpipeline.model.builtin.OnnxGraph.intsAttr;

/**
 * The guidance-embedding part of an LCM-style UNet: reads the guidance scale g back from {@code timestep_cond}
 * (diffusers' {@code get_guidance_scale_embedding(g - 1, 256)}) and applies it to the conditioning colour as
 * classifier-free guidance against grey would: c' = 0.5 + g (c - 0.5).
 *
 * <p>With half = 128 and f_i = exp(-i ln(10000) / 127), entry i is sin(1000 w f_i) and entry half + i is
 * cos(1000 w f_i), w = g - 1. The lowest frequency (i = 127, f ~ 1e-4) gives w = atan(e[127] / e[255]) / (1000 f)
 * while that angle lies within +-pi/2, i.e. for |g - 1| < ~15.7 ({@link #decodable}). The embedding counts as valid
 * when, for the low-frequency quarter i = 96..127 (where fp16 rounding of the input still pins the angle), every
 * sine and cosine is within {@link #TOLERANCE} of the embedding of that w; otherwise (zeros, cos before sin, another
 * frequency table) g is taken as 0 and the colour is grey.
 */
final class GuidanceEmbeddingGraph {
    static final String INPUT = "timestep_cond";
    /** The UNet config's time_cond_proj_dim, as LCM-distilled SD 1.5 and SDXL UNets have it. */
    static final int DIM = 256;
    static final float TOLERANCE = 0.05f;
    /** The colour guidance pushes away from: c' = PIVOT + g (c - PIVOT). */
    static final float PIVOT = 0.5f;
    private static final int HALF = DIM / 2;
    private static final int FIRST_CHECKED = 3 * HALF / 4;

    private GuidanceEmbeddingGraph() {
    }

    /** diffusers' frequencies in float32, as torch computes them: exp(i * -(ln(10000) / (half - 1))). */
    static float[] frequencies() {
        float logStep = (float) Math.log(10000.0f) / (HALF - 1);
        float[] f = new float[HALF];
        for (int i = 0; i < HALF; i++) {
            f[i] = (float) Math.exp(i * -logStep);
        }
        return f;
    }

    /** The guided colour [B, 3] for the colour {@code color} [B, 3] and the graph input {@value #INPUT}. */
    static String guide(OnnxGraph g, String color) {
        float[] f = frequencies();
        int checked = HALF - FIRST_CHECKED;
        long[] sinIndices = new long[checked];
        long[] cosIndices = new long[checked];
        float[] checkedFrequencies = new float[checked];
        for (int k = 0; k < checked; k++) {
            sinIndices[k] = FIRST_CHECKED + k;
            cosIndices[k] = HALF + FIRST_CHECKED + k;
            checkedFrequencies[k] = f[FIRST_CHECKED + k];
        }
        AttributeProto axis1 = intAttr("axis", 1);
        String sine = g.op("Gather", axis1, INPUT, g.longs("guidance_sin_index", HALF - 1));     // [B, 1]
        String cosine = g.op("Gather", axis1, INPUT, g.longs("guidance_cos_index", DIM - 1));    // [B, 1]
        String positive = g.op("Greater", cosine, g.scalar("guidance_zero", 0f));
        String safeCosine = g.op("Where", positive, cosine, g.scalar("guidance_one", 1f));
        String angle = g.op("Atan", g.op("Div", sine, safeCosine));
        // 1000 w, the factor diffusers multiplies every frequency by.
        String scaledW = g.op("Div", angle, g.scalar("guidance_lowest_frequency", f[HALF - 1]));

        String angles = g.op("Mul", scaledW,
                g.floats("guidance_checked_frequencies", new long[] {checked}, checkedFrequencies));   // [B, 32]
        String sinError = g.op("Abs", g.op("Sub", g.op("Sin", angles),
                g.op("Gather", axis1, INPUT, g.longs("guidance_checked_sin", sinIndices))));
        String cosError = g.op("Abs", g.op("Sub", g.op("Cos", angles),
                g.op("Gather", axis1, INPUT, g.longs("guidance_checked_cos", cosIndices))));
        AttributeProto[] maxOverFeatures = {intsAttr("axes", 1), intAttr("keepdims", 1)};
        String error = g.op("Max", g.op("ReduceMax", maxOverFeatures, sinError),
                g.op("ReduceMax", maxOverFeatures, cosError));                                     // [B, 1]
        String valid = g.op("And", positive, g.op("Less", error, g.scalar("guidance_tolerance", TOLERANCE)));

        String scale = g.op("Add", g.op("Div", scaledW, g.scalar("guidance_thousand", 1000f)), "guidance_one");
        scale = g.op("Where", valid, scale, "guidance_zero");                                         // [B, 1]
        String pivot = g.scalar("guidance_pivot", PIVOT);
        return g.op("Add", pivot, g.op("Mul", scale, g.op("Sub", color, pivot)));
    }

    /** Whether g can be read back: the lowest-frequency angle 1000 (g - 1) f_127 must lie within +-pi/2. */
    static boolean decodable(double guidanceScale) {
        float[] f = frequencies();
        return Math.abs((float) (guidanceScale - 1) * 1000.0f * f[HALF - 1]) < Math.PI / 2;
    }
}
