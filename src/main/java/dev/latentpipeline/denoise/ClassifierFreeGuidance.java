package dev.latentpipeline.denoise;

import dev.latentpipeline.tensor.FloatTensor;

/**
 * Classifier-free guidance over a batch laid out as [uncond x n, cond x n]:
 * eps = eps_uncond + g * (eps_cond - eps_uncond).
 */
public final class ClassifierFreeGuidance {
    private ClassifierFreeGuidance() {
    }

    public static FloatTensor combine(FloatTensor batchedPrediction, float guidanceScale) {
        long[] shape = batchedPrediction.shape();
        if (shape[0] % 2 != 0) {
            throw new IllegalArgumentException("guided batch must hold uncond and cond halves, got "
                    + batchedPrediction);
        }
        float[] both = batchedPrediction.data();
        int half = both.length / 2;
        float[] guided = new float[half];
        for (int i = 0; i < half; i++) {
            float uncond = both[i];
            guided[i] = uncond + guidanceScale * (both[half + i] - uncond);
        }
        shape[0] = shape[0] / 2;
        return new FloatTensor(shape, guided);
    }
}
