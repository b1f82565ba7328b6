package dev.latentpipeline.model;

import dev.latentpipeline.tensor.FloatTensor;
import java.util.Arrays;

/**
 * How the VAE's latents map to the UNet's, from the VAE config: {@code unet = (vae - mean) * scaling_factor / std}
 * per channel where the config has latents_mean and latents_std, else {@code unet = vae * scaling_factor}; the
 * decoder gets the inverse, as diffusers' pipelines compute it.
 */
public record LatentScaling(float scalingFactor, float[] latentsMean, float[] latentsStd) {

    public LatentScaling {
        if ((latentsMean == null) != (latentsStd == null)) {
            // diffusers uses them only as a pair
            latentsMean = null;
            latentsStd = null;
        }
        if (latentsMean != null && latentsMean.length != latentsStd.length) {
            throw new ModelException("VAE config: latents_mean has " + latentsMean.length + " entries, latents_std "
                    + latentsStd.length);
        }
    }

    public static LatentScaling of(float scalingFactor) {
        return new LatentScaling(scalingFactor, null, null);
    }

    /** The VAE encoder's latent [n, c, h, w] in the UNet's scale. */
    public FloatTensor toUnet(FloatTensor vae) {
        return map(vae, false);
    }

    /** The UNet's latent [n, c, h, w] in the VAE decoder's scale. */
    public FloatTensor toVae(FloatTensor unet) {
        return map(unet, true);
    }

    /** One value of channel {@code c} in the UNet's scale, for callers that sample element by element. */
    public float toUnet(float vae, int channel) {
        return latentsMean == null ? scalingFactor * vae
                : (vae - latentsMean[channel]) * scalingFactor / latentsStd[channel];
    }

    private FloatTensor map(FloatTensor t, boolean toVae) {
        float[] in = t.data();
        float[] out = new float[in.length];
        long[] shape = t.shape();
        int channels = shape.length == 4 ? (int) shape[1] : 1;
        int plane = shape.length == 4 ? (int) (shape[2] * shape[3]) : in.length;
        if (latentsMean != null && channels != latentsMean.length) {
            throw new ModelException("VAE config has latents_mean for " + latentsMean.length + " channels; latents have "
                    + channels);
        }
        for (int i = 0; i < in.length; i++) {
            int c = (i / plane) % channels;
            if (latentsMean == null) {
                // unet / scaling_factor as diffusers divides (not a multiplication by the reciprocal)
                out[i] = toVae ? in[i] / scalingFactor : scalingFactor * in[i];
            } else {
                out[i] = toVae ? in[i] * latentsStd[c] / scalingFactor + latentsMean[c] : toUnet(in[i], c);
            }
        }
        return new FloatTensor(shape, out);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LatentScaling s && s.scalingFactor == scalingFactor
                && Arrays.equals(s.latentsMean, latentsMean) && Arrays.equals(s.latentsStd, latentsStd);
    }

    @Override
    public int hashCode() {
        return Float.hashCode(scalingFactor) * 31 + Arrays.hashCode(latentsMean);
    }

    @Override
    public String toString() {
        return latentsMean == null ? "scaling_factor " + scalingFactor
                : "scaling_factor " + scalingFactor + ", latents_mean " + Arrays.toString(latentsMean)
                        + ", latents_std " + Arrays.toString(latentsStd);
    }
}
