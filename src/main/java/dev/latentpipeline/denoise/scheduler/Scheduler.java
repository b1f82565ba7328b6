package dev.latentpipeline.denoise.scheduler;

/**
 * A diffusion sampler in the style of Hugging Face diffusers, on flat float32 latents (all operations are
 * elementwise, so the tensor shape does not matter here).
 *
 * <p>Usage: {@link #setTimesteps} once per run (it also clears any multistep history), then for each
 * {@code i} in {@code 0 .. timesteps().length - 1}, in order: {@code x = scaleModelInput(x, i)} as the
 * model input, run the model at {@code timesteps()[i]}, {@code x = step(output, i, x)}. Multistep
 * schedulers keep history between calls, so every index must be stepped exactly once, in increasing order.
 */
public interface Scheduler {

    /** Standard deviation of the initial noise: multiply unit Gaussian latents by this. Valid after setTimesteps. */
    float initNoiseSigma();

    /** Builds the timestep and sigma schedule for a run of {@code numInferenceSteps}; resets multistep state. */
    void setTimesteps(int numInferenceSteps);

    /** The model timesteps in call order; may be fractional (Euler/LMS) or repeat a value (PNDM). */
    double[] timesteps();

    /** The model input for step {@code stepIndex}; a new array (or {@code sample} itself when no scaling applies). */
    float[] scaleModelInput(float[] sample, int stepIndex);

    /** One denoising step: returns the sample for the next step (a new array). */
    float[] step(float[] modelOutput, int stepIndex, float[] sample);

    /** Noises a clean latent to the noise level of {@code timesteps()[stepIndex]} (img2img). */
    float[] addNoise(float[] original, float[] noise, int stepIndex);

    /** diffusers' {@code scheduler.order}: img2img starts at {@code timesteps()[tStart * order()]}. */
    int order();

    /**
     * The state between steps (multistep history, counters): after {@code step(.., i, ..)}, a fresh scheduler
     * with the same config given {@code setTimesteps(n)} and {@link #restore} continues at {@code i + 1} exactly
     * as this one would. Noise drawn by stochastic schedulers comes from the NoiseSource, whose state the caller
     * keeps.
     */
    SchedulerState snapshot();

    /** Restores a {@link #snapshot()}; call after {@link #setTimesteps} with the same step count. */
    void restore(SchedulerState state);
}
