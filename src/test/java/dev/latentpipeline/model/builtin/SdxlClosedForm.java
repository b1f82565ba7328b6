package dev.latentpipeline.model.builtin;

/**
 * The SDXL UNet's documented closed form (README, "The built-in model", SDXL), written out here with the README's
 * numbers so that the tests check the graphs against the text, not against the constants the graphs use.
 */
final class SdxlClosedForm {
    static final double SCALING = 0.13025;
    static final double[] MISSING_MARKER_1 = {-0.25, 0.25, 0.25};
    static final double[] MISSING_MARKER_2 = {0.25, -0.25, 0.25};
    static final double[] MISSING_POOLED_MARKER = {0.25, 0.25, -0.25};

    private SdxlClosedForm() {
    }

    /**
     * c = 0.5 c1 + 0.25 c2 + 0.25 p + s1 (1 - m1) + s2 (1 - m2) + s3 (1 - m3), read from position 0 of
     * encoder_hidden_states (c1 = e[0..2], m1 = e[3], c2 = (e[33], e[34], e[32]), m2 = e[36]) and from text_embeds
     * (p = q[0..2], m3 = q[3]).
     */
    static double[] textColor(float[] e, float[] q) {
        double[] c = new double[3];
        double[] c2 = {e[33], e[34], e[32]};
        for (int ch = 0; ch < 3; ch++) {
            c[ch] = 0.5 * e[ch] + 0.25 * c2[ch] + 0.25 * q[ch]
                    + MISSING_MARKER_1[ch] * (1 - e[3])
                    + MISSING_MARKER_2[ch] * (1 - e[36])
                    + MISSING_POOLED_MARKER[ch] * (1 - q[3]);
        }
        return c;
    }

    /** b c + d with b = (th / H)(tw / W), d = 0.5 (oh / H - 1, ow / W - 1, ct / H + cl / W). */
    static double[] withTimeIds(double[] c, float[] ids, int height, int width) {
        double b = ids[4] / (double) height * (ids[5] / (double) width);
        double[] d = {
            0.5 * (ids[0] / (double) height - 1),
            0.5 * (ids[1] / (double) width - 1),
            0.5 * (ids[2] / (double) height + ids[3] / (double) width),
        };
        return new double[] {b * c[0] + d[0], b * c[1] + d[1], b * c[2] + d[2]};
    }

    /** 0.5 + g (c - 0.5): what the guidance-embedding UNet does with the scale it reads. */
    static double[] guided(double[] c, double g) {
        return new double[] {0.5 + g * (c[0] - 0.5), 0.5 + g * (c[1] - 0.5), 0.5 + g * (c[2] - 0.5)};
    }

    /** x0 = 0.13025 E (2c - 1). */
    static double[] targetLatent(double[] rgb) {
        float[][] e = BuiltinModel.latentFromPixel();
        double[] x0 = new double[4];
        for (int k = 0; k < 4; k++) {
            for (int c = 0; c < 3; c++) {
                x0[k] += SCALING * e[k][c] * (2.0 * rgb[c] - 1);
            }
        }
        return x0;
    }

    /** The colour a latent decodes to: (D x / 0.13025 + 1) / 2. */
    static double[] colorOfLatent(double[] x0) {
        float[][] d = BuiltinModel.pixelFromLatent();
        double[] rgb = new double[3];
        for (int c = 0; c < 3; c++) {
            for (int k = 0; k < 4; k++) {
                rgb[c] += d[c][k] * x0[k] / SCALING;
            }
            rgb[c] = (rgb[c] + 1) / 2;
        }
        return rgb;
    }

    /** diffusers' get_guidance_scale_embedding(w, dim) in float32, as torch computes it: [sin(1000 w f), cos(...)]. */
    static float[] guidanceEmbedding(double w, int dim) {
        int half = dim / 2;
        float scaled = (float) w * 1000.0f;
        float logStep = (float) Math.log(10000.0f) / (half - 1);
        float[] out = new float[dim];
        for (int i = 0; i < half; i++) {
            float angle = scaled * (float) Math.exp(i * -logStep);
            out[i] = (float) Math.sin(angle);
            out[half + i] = (float) Math.cos(angle);
        }
        return out;
    }
}
