package dev.latentpipeline.denoise.img2img;

import dev.latentpipeline.model.LatentScaling;
import dev.latentpipeline.tensor.FloatTensor;

/**
 * What the VAE encoder says about one image: either a ready latent sample (exports with a {@code latent_sample}
 * output) or diffusers' DiagonalGaussianDistribution, mean and log-variance (exports with {@code latent_parameters}),
 * to be sampled with the request's noise. Unscaled: {@link #scaledSample} applies the VAE's latent scaling.
 */
public record LatentDistribution(FloatTensor mean, FloatTensor logVariance, LatentScaling scaling) {

    /** Whether sampling needs unit Gaussian noise of the mean's size. */
    public boolean needsNoise() {
        return logVariance != null;
    }

    /**
     * The scaled sample (scaling_factor * x, or (x - latents_mean) * scaling_factor / latents_std) of x = mean +
     * exp(logvar / 2) * noise, logvar clamped to [-30, 20] as diffusers does; of x = the sample for the sample form.
     * {@code unitNoise} may be null when {@link #needsNoise()} is false.
     */
    public FloatTensor scaledSample(float[] unitNoise) {
        float[] mean = this.mean.data();
        float[] out = new float[mean.length];
        if (logVariance == null) {
            return scaling.toUnet(this.mean);
        }
        if (unitNoise == null || unitNoise.length != mean.length) {
            throw new IllegalArgumentException("sampling needs " + mean.length + " noise values");
        }
        float[] logVar = logVariance.data();
        for (int i = 0; i < out.length; i++) {
            float clamped = Math.min(20f, Math.max(-30f, logVar[i]));
            float std = (float) Math.exp(0.5f * clamped);
            out[i] = mean[i] + std * unitNoise[i];
        }
        return scaling.toUnet(new FloatTensor(this.mean.shape(), out));
    }
}
