package dev.latentpipeline.denoise.scheduler;

/**
 * diffusers' LCMScheduler (Latent Consistency Models, multistep consistency sampling). Each step predicts x0 as
 * DDIM does, applies the consistency boundary condition {@code denoised = c_out * x0 + c_skip * x} and, except on
 * the last step, re-noises {@code denoised} to the next timestep with fresh noise from the NoiseSource (one draw
 * per step but the last, so a one-step run draws nothing).
 *
 * <p>Timesteps: the distillation schedule {@code k * (1 .. int(original_inference_steps * strength)) - 1} with
 * {@code k = num_train_timesteps // original_inference_steps}, newest first, sampled at
 * {@code floor(linspace(0, len, steps, endpoint=False))}. timestep_spacing and steps_offset are read by diffusers'
 * config but not used by this class, so not here either. Defaults as diffusers: betas 0.00085 to 0.012
 * scaled_linear, original_inference_steps 50, timestep_scaling 10, clip_sample false, set_alpha_to_one true.
 */
public final class LcmScheduler implements Scheduler {
    /** sigma_data of the consistency boundary condition, fixed at 0.5 in diffusers. */
    private static final float SIGMA_DATA = 0.5f;

    private final SchedulerConfig config;
    private final NoiseSchedule schedule;
    private final NoiseSource noise;
    private final float finalAlphaCumprod;
    private int[] timesteps;
    private float[] lastDenoised;

    public LcmScheduler(SchedulerConfig config, NoiseSource noise) {
        this.config = config;
        this.schedule = new NoiseSchedule(config, NoiseSchedule.BetaDefaults.LCM);
        this.noise = noise;
        boolean setAlphaToOne = config.setAlphaToOne() != null ? config.setAlphaToOne() : true;
        this.finalAlphaCumprod = setAlphaToOne ? 1.0f : schedule.alphasCumprod[0];
        if (!NoiseSchedule.PREDICTION_TYPES.contains(config.predictionType())) {
            throw new IllegalArgumentException("unsupported prediction_type " + config.predictionType());
        }
    }

    @Override
    public float initNoiseSigma() {
        return 1.0f;
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        setTimesteps(numInferenceSteps, 1.0);
    }

    /**
     * diffusers' set_timesteps(num_inference_steps, strength=strength): the strength shortens the distillation
     * schedule, and the run has {@code numInferenceSteps} steps from its first timestep. With no distillation
     * timestep left ({@code int(original_inference_steps * strength) == 0}, where diffusers raises) the schedule is
     * empty: the image comes back as it is, as with every other scheduler at strength 0.
     */
    @Override
    public void setTimesteps(int numInferenceSteps, double strength) {
        Schedulers.requireStrength(strength);
        int trainSteps = config.numTrainTimesteps();
        int originalSteps = config.originalInferenceSteps();
        if (originalSteps < 1 || originalSteps > trainSteps) {
            throw new IllegalArgumentException("original_inference_steps must be in 1.." + trainSteps + ", got "
                    + originalSteps);
        }
        if (numInferenceSteps < 1 || numInferenceSteps > trainSteps) {
            throw new IllegalArgumentException("numInferenceSteps must be in 1.." + trainSteps + ", got "
                    + numInferenceSteps);
        }
        int skippingStep = trainSteps / originalSteps; // the paper's k
        int distilled = (int) (originalSteps * strength);
        lastDenoised = null;
        if (distilled == 0) {
            timesteps = new int[0];
            return;
        }
        if (distilled / numInferenceSteps < 1) {
            throw new IllegalArgumentException("lcm: " + numInferenceSteps + " steps need at least as many of the "
                    + "original_inference_steps (" + originalSteps + ") x strength (" + strength + ") = " + distilled
                    + " distillation timesteps; use fewer steps or a higher strength");
        }
        if (numInferenceSteps > originalSteps) {
            throw new IllegalArgumentException("lcm: steps (" + numInferenceSteps + ") cannot exceed "
                    + "original_inference_steps (" + originalSteps + ")");
        }
        double[] picks = Numerics.linspaceExcludingStop(0, distilled, numInferenceSteps);
        timesteps = new int[numInferenceSteps];
        for (int i = 0; i < numInferenceSteps; i++) {
            int newestFirst = (int) Math.floor(picks[i]);
            timesteps[i] = (distilled - newestFirst) * skippingStep - 1;
        }
    }

    @Override
    public double[] timesteps() {
        requireTimesteps();
        double[] out = new double[timesteps.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = timesteps[i];
        }
        return out;
    }

    @Override
    public float[] scaleModelInput(float[] sample, int stepIndex) {
        return sample;
    }

    @Override
    public int img2imgStartIndex(int numInferenceSteps, double strength) {
        Schedulers.requireStrength(strength);
        return 0;
    }

    @Override
    public float[] step(float[] modelOutput, int stepIndex, float[] sample) {
        requireTimesteps();
        Numerics.requireSameLength(modelOutput, sample);
        int t = timesteps[stepIndex];
        boolean last = stepIndex == timesteps.length - 1;
        int prevT = last ? t : timesteps[stepIndex + 1];
        float alphaProdT = schedule.alphasCumprod[t];
        float alphaProdPrev = schedule.alphaCumprodAt(prevT, finalAlphaCumprod);

        // boundary condition scalings, float32 as torch computes them from the int64 timestep
        float scaled = t * config.timestepScaling().floatValue();
        float cSkip = SIGMA_DATA * SIGMA_DATA / (scaled * scaled + SIGMA_DATA * SIGMA_DATA);
        float cOut = scaled / (float) Math.sqrt(scaled * scaled + SIGMA_DATA * SIGMA_DATA);

        float[] x0 = NoiseSchedule.predictOriginal(config.predictionType(), modelOutput, sample, alphaProdT);
        if (config.clipSample() != null && config.clipSample()) {
            float range = config.clipSampleRange().floatValue();
            for (int i = 0; i < x0.length; i++) {
                x0[i] = Math.max(-range, Math.min(range, x0[i]));
            }
        }
        float[] denoised = new float[sample.length];
        for (int i = 0; i < denoised.length; i++) {
            denoised[i] = cOut * x0[i] + cSkip * sample[i];
        }
        lastDenoised = denoised;
        if (last) {
            return denoised.clone();
        }
        float[] z = new float[sample.length];
        noise.fillGaussian(z);
        float signal = (float) Math.sqrt(alphaProdPrev);
        float noiseScale = (float) Math.sqrt(1 - alphaProdPrev);
        float[] prev = new float[sample.length];
        for (int i = 0; i < prev.length; i++) {
            prev[i] = signal * denoised[i] + noiseScale * z[i];
        }
        return prev;
    }

    /** The boundary-condition {@code denoised} of the latest step: what diffusers' LCM pipeline decodes at the end. */
    @Override
    public float[] predictedOriginal() {
        return Numerics.copyAfterStep(lastDenoised);
    }

    @Override
    public float[] addNoise(float[] original, float[] noise, int stepIndex) {
        requireTimesteps();
        return schedule.addNoise(original, noise, timesteps[stepIndex]);
    }

    @Override
    public int order() {
        return 1;
    }

    /**
     * Nothing carries between steps (the noise comes from the NoiseSource) except which schedule the run is on: the
     * state names its length and first timestep, so a resume on a schedule built with another strength is refused.
     */
    @Override
    public SchedulerState snapshot() {
        requireTimesteps();
        return new SchedulerState.Builder().number("timesteps", timesteps.length)
                .number("first_timestep", timesteps.length > 0 ? timesteps[0] : -1).build();
    }

    @Override
    public void restore(SchedulerState state) {
        requireTimesteps();
        long length = state.number("timesteps", timesteps.length);
        long first = state.number("first_timestep", timesteps.length > 0 ? timesteps[0] : -1);
        if (length != timesteps.length || (length > 0 && first != timesteps[0])) {
            throw new IllegalStateException("lcm: the snapshot is of a " + length + "-step schedule from timestep "
                    + first + ", this one has " + timesteps.length + " from " + (timesteps.length > 0 ? timesteps[0]
                    : -1) + ": call setTimesteps with the run's steps and strength before restore");
        }
    }

    private void requireTimesteps() {
        if (timesteps == null) {
            throw new IllegalStateException("call setTimesteps first");
        }
    }
}
