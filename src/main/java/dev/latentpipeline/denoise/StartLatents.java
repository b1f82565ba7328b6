package dev.latentpipeline.denoise;

import dev.latentpipeline.denoise.scheduler.Scheduler;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Tensors;

/**
 * Where the denoising loop starts: latents already at the noise level of {@code timesteps()[index]}, and that index.
 * Text-to-image starts at 0 from unit noise times init_noise_sigma; img2img starts part-way, from the encoded
 * image noised to the start timestep that strength selects (diffusers' StableDiffusionImg2ImgPipeline).
 */
public record StartLatents(FloatTensor latents, int index) {

    /** Text-to-image: {@code latents = noise * init_noise_sigma} (diffusers' prepare_latents), from step 0. */
    public static StartLatents fromNoise(FloatTensor unitNoise, Scheduler scheduler) {
        return new StartLatents(Tensors.scale(unitNoise, scheduler.initNoiseSigma()), 0);
    }

    /**
     * img2img, as diffusers' current img2img pipeline: {@code init = min(int(steps * strength), steps)},
     * denoising runs {@code timesteps()[(steps - init) * order:]} and the clean latents are noised with
     * {@code add_noise} at the first of those timesteps. When no step remains (strength 0, or steps * strength < 1)
     * the clean latents are returned as they are, so the image comes back after a VAE round trip.
     *
     * @param clean the scaled image latents; {@code unitNoise} the noise to add (same shape)
     * @param scheduler a scheduler whose timesteps are set for {@code steps} and {@code strength}
     */
    public static StartLatents fromImage(FloatTensor clean, FloatTensor unitNoise, Scheduler scheduler, int steps,
            double strength) {
        int length = scheduler.timesteps().length;
        int index = scheduler.img2imgStartIndex(steps, strength);
        if (index >= length) {
            return new StartLatents(clean, length);
        }
        float[] noised = scheduler.addNoise(clean.data(), unitNoise.data(), index);
        return new StartLatents(new FloatTensor(clean.shape(), noised), index);
    }
}
