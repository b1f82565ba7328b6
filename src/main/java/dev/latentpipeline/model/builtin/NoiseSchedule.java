package dev.latentpipeline.model.builtin;

/**
 * SD 1.5's training noise schedule (scaled_linear, beta 0.00085 to 0.012, 1000 steps) as the sigma table that the
 * built-in UNet interpolates, the way diffusers' Euler scheduler does.
 */
final class NoiseSchedule {
    static final int TRAIN_TIMESTEPS = 1000;
    static final double BETA_START = 0.00085;
    static final double BETA_END = 0.012;

    private NoiseSchedule() {
    }

    /** betas = linspace(sqrt(start), sqrt(end), 1000)^2 in float32, as diffusers computes them with torch. */
    static float[] betas() {
        float start = (float) Math.sqrt(BETA_START);
        float end = (float) Math.sqrt(BETA_END);
        float[] betas = new float[TRAIN_TIMESTEPS];
        for (int i = 0; i < TRAIN_TIMESTEPS; i++) {
            float root = (float) (start + (end - (double) start) * i / (TRAIN_TIMESTEPS - 1));
            betas[i] = root * root;
        }
        return betas;
    }

    /** sigma_t = sqrt((1 - alphaBar_t) / alphaBar_t) with alphaBar = cumprod(1 - beta), accumulated in double. */
    static float[] sigmas() {
        float[] betas = betas();
        float[] sigmas = new float[TRAIN_TIMESTEPS];
        double alphaBar = 1;
        for (int i = 0; i < TRAIN_TIMESTEPS; i++) {
            alphaBar *= 1 - (double) betas[i];
            sigmas[i] = (float) Math.sqrt((1 - alphaBar) / alphaBar);
        }
        return sigmas;
    }
}
