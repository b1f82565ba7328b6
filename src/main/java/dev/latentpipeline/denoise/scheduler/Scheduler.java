package dev.latentpipeline.denoise.scheduler;

/**
 * A diffusion sampler in the style of Hugging Face diffusers, on flat float32 latents (all operations are
 * elementwise, so the tensor shape does not matter here).
 *
 * <p>Usage: {@link #setTimesteps(int)} once per run (it also clears any multistep history), then for each
 * {@code i} in {@code 0 .. timesteps().length - 1}, in order: {@code x = scaleModelInput(x, i)} as the
 * model input, run the model at {@code timesteps()[i]}, {@code x = step(output, i, x)}. Multistep
 * schedulers keep history between calls, so every index must be stepped exactly once, in increasing order.
 *
 * <p>img2img: {@link #setTimesteps(int, double)} with the strength, then start at
 * {@code i = img2imgStartIndex(steps, strength)} from {@code addNoise(clean, noise, i)}; nothing is denoised when
 * that index is {@code timesteps().length}.
 */
public interface Scheduler {

    /** Standard deviation of the initial noise: multiply unit Gaussian latents by this. Valid after setTimesteps. */
    float initNoiseSigma();

    /** Builds the timestep and sigma schedule for a run of {@code numInferenceSteps}; resets multistep state. */
    void setTimesteps(int numInferenceSteps);

    /**
     * The schedule of an img2img run at {@code strength} in [0, 1] (1: from pure noise, as text-to-image). Most
     * schedulers build their full schedule, as {@link #setTimesteps(int)}, and img2img skips its start (diffusers'
     * {@code get_timesteps}); LCM builds its schedule from the strength itself, as diffusers'
     * {@code LCMScheduler.set_timesteps(strength=)} does.
     */
    default void setTimesteps(int numInferenceSteps, double strength) {
        Schedulers.requireStrength(strength);
        setTimesteps(numInferenceSteps);
    }

    /**
     * Where an img2img run at {@code strength} starts in {@link #timesteps()}, after {@link #setTimesteps(int, double)}
     * with the same arguments: diffusers' {@code t_start * order} (see {@link Schedulers#img2imgStartIndex}), or
     * {@code timesteps().length} when no step remains ({@code int(steps * strength) == 0}: the image comes back as
     * it is). LCM answers 0, since its schedule already starts at the strength's timestep.
     */
    default int img2imgStartIndex(int numInferenceSteps, double strength) {
        Schedulers.requireStrength(strength);
        int init = Math.min((int) (numInferenceSteps * strength), numInferenceSteps);
        return init == 0 ? timesteps().length : Schedulers.img2imgStartIndex(numInferenceSteps, strength, order());
    }

    /** The model timesteps in call order; may be fractional (Euler/LMS) or repeat a value (PNDM). */
    double[] timesteps();

    /** The model input for step {@code stepIndex}; a new array (or {@code sample} itself when no scaling applies). */
    float[] scaleModelInput(float[] sample, int stepIndex);

    /** One denoising step: returns the sample for the next step (a new array). */
    float[] step(float[] modelOutput, int stepIndex, float[] sample);

    /**
     * The predicted clean sample x0 of the latest {@link #step} (a new array, for previews): the data prediction the
     * step made from that model output, per prediction_type (diffusers' {@code pred_original_sample}; DPM-Solver's
     * converted model output; LCM's boundary-condition {@code denoised}, which its pipeline decodes; PNDM, which
     * has none of its own, gets DDIM's x0 from the output at the timestep the model saw).
     *
     * @throws IllegalStateException before the first step after {@link #setTimesteps} or {@link #restore}
     */
    float[] predictedOriginal();

    /** Noises a clean latent to the noise level of {@code timesteps()[stepIndex]} (img2img). */
    float[] addNoise(float[] original, float[] noise, int stepIndex);

    /** diffusers' {@code scheduler.order}: img2img starts at {@code timesteps()[tStart * order()]}. */
    int order();

    /**
     * The state between steps (multistep history, counters): after {@code step(.., i, ..)}, a fresh scheduler
     * with the same config given the same {@code setTimesteps} call ({@code (n)}, or {@code (n, strength)} for
     * img2img) and {@link #restore} continues at {@code i + 1} exactly as this one would. Noise drawn by
     * stochastic schedulers comes from the NoiseSource, whose state the caller keeps.
     */
    SchedulerState snapshot();

    /** Restores a {@link #snapshot()}; call after {@link #setTimesteps} with the run's arguments. */
    void restore(SchedulerState state);
}
