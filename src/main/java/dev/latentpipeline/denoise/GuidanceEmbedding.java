package dev.latentpipeline.denoise;

/**
 * The guidance-scale embedding that guidance-distilled UNets (LCM) take as {@code timestep_cond}: diffusers'
 * {@code get_guidance_scale_embedding(w, embedding_dim)} (VDM's sinusoidal embedding), computed in float32 as torch
 * does. For dimension d and half = d / 2: {@code f_i = exp(-i * ln(10000) / (half - 1))}, {@code a_i = 1000 w f_i},
 * the embedding is {@code [sin a_0 .. sin a_(half-1), cos a_0 .. cos a_(half-1)]}, plus one trailing 0 when d is odd.
 */
public final class GuidanceEmbedding {
    private GuidanceEmbedding() {
    }

    /**
     * What diffusers' LCM pipelines feed for a request's guidance scale: the embedding of {@code w = guidance - 1}
     * (they use the Imagen CFG formulation, where guidance 1 means none; the LCM paper's w is one less).
     */
    public static float[] forGuidanceScale(double guidanceScale, int embeddingDim) {
        return of(guidanceScale - 1, embeddingDim);
    }

    /** diffusers' get_guidance_scale_embedding for one w, as a flat float[embeddingDim] (its shape is [1, dim]). */
    public static float[] of(double w, int embeddingDim) {
        if (embeddingDim < 4) {
            // half - 1 would be 0: diffusers divides by it and returns NaN
            throw new IllegalArgumentException("guidance embedding dimension must be >= 4, got " + embeddingDim);
        }
        float scaled = (float) w * 1000.0f; // torch.tensor(w) is float32, then w * 1000.0
        int half = embeddingDim / 2;
        float logStep = (float) Math.log(10000.0f) / (half - 1);
        float[] out = new float[embeddingDim]; // an odd dimension keeps its last entry 0 (the zero pad)
        for (int i = 0; i < half; i++) {
            float frequency = (float) Math.exp(i * -logStep);
            float angle = scaled * frequency;
            out[i] = (float) Math.sin(angle);
            out[half + i] = (float) Math.cos(angle);
        }
        return out;
    }
}
