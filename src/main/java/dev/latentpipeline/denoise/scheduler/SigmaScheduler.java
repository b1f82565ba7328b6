package dev.latentpipeline.denoise.scheduler;

/**
 * Shared part of the k-diffusion style schedulers (Euler, Euler ancestral, LMS): they work in sigma space, scale
 * the model input by {@code 1 / sqrt(sigma^2 + 1)}, and noise as {@code x + sigma * noise}.
 */
abstract class SigmaScheduler implements Scheduler {
    protected final SchedulerConfig config;
    protected final NoiseSchedule schedule;
    protected final String spacing;
    protected double[] timesteps;
    /** One more than timesteps: the last entry is the sigma after the final step. */
    protected float[] sigmas;
    private float[] lastPredictedOriginal;

    SigmaScheduler(SchedulerConfig config) {
        this.config = config;
        this.schedule = new NoiseSchedule(config);
        this.spacing = config.timestepSpacingOr("linspace");
    }

    /** Whether use_karras_sigmas applies to this scheduler (diffusers' Euler and LMS honour it). */
    protected abstract boolean supportsKarras();

    /** Karras sigma bounds; Euler lets sigma_min/sigma_max in the config override them, LMS does not. */
    protected double karrasSigmaMin(double fromSchedule) {
        return fromSchedule;
    }

    protected double karrasSigmaMax(double fromSchedule) {
        return fromSchedule;
    }

    /** The sigma appended after the last step: 0 unless a subclass honours final_sigmas_type. */
    protected double finalSigma() {
        return 0.0;
    }

    /** Clears multistep history. */
    protected void reset() {
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        if (numInferenceSteps < 1) {
            throw new IllegalArgumentException("numInferenceSteps must be >= 1, got " + numInferenceSteps);
        }
        int trainSteps = config.numTrainTimesteps();
        double[] ts = switch (spacing) {
            case "linspace" -> Numerics.reversed(Numerics.linspace(0, trainSteps - 1, numInferenceSteps));
            case "leading" -> {
                int ratio = trainSteps / numInferenceSteps;
                double[] out = new double[numInferenceSteps];
                for (int i = 0; i < numInferenceSteps; i++) {
                    out[i] = (float) Math.rint((double) (numInferenceSteps - 1 - i) * ratio) + (float) config.stepsOffset();
                }
                yield out;
            }
            case "trailing" -> {
                double[] out = Numerics.arange(trainSteps, 0, -(double) trainSteps / numInferenceSteps);
                for (int i = 0; i < out.length; i++) {
                    out[i] = (float) Math.rint(out[i]) - 1.0f;
                }
                yield out;
            }
            default -> throw new IllegalArgumentException("unsupported timestep_spacing " + spacing);
        };
        toFloat32(ts); // diffusers keeps these timesteps as float32
        float[] trainingSigmas = schedule.sigmas();
        double[] s = Numerics.interp(ts, trainingSigmas);
        if (supportsKarras() && config.useKarrasSigmas()) {
            s = Numerics.karras(karrasSigmaMin(s[s.length - 1]), karrasSigmaMax(s[0]), numInferenceSteps);
            float[] logSigmas = Numerics.logs(trainingSigmas);
            ts = new double[s.length];
            for (int i = 0; i < s.length; i++) {
                ts[i] = Numerics.sigmaToT(s[i], logSigmas);
            }
            toFloat32(ts);
        }
        sigmas = new float[s.length + 1];
        for (int i = 0; i < s.length; i++) {
            sigmas[i] = (float) s[i];
        }
        sigmas[s.length] = (float) finalSigma();
        timesteps = ts;
        lastPredictedOriginal = null;
        reset();
    }

    private static void toFloat32(double[] values) {
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) values[i];
        }
    }

    @Override
    public double[] timesteps() {
        requireTimesteps();
        return timesteps.clone();
    }

    /** The sigma schedule, one longer than timesteps(). */
    public float[] sigmas() {
        requireTimesteps();
        return sigmas.clone();
    }

    @Override
    public float initNoiseSigma() {
        requireTimesteps();
        float max = 0;
        for (float s : sigmas) {
            max = Math.max(max, s);
        }
        if (spacing.equals("linspace") || spacing.equals("trailing")) {
            return max;
        }
        return (float) Math.sqrt(max * max + 1.0f);
    }

    @Override
    public float[] scaleModelInput(float[] sample, int stepIndex) {
        float sigma = sigmaAt(stepIndex);
        float scale = (float) Math.sqrt(sigma * sigma + 1.0f);
        float[] out = new float[sample.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = sample[i] / scale;
        }
        return out;
    }

    @Override
    public float[] addNoise(float[] original, float[] noise, int stepIndex) {
        Numerics.requireSameLength(original, noise);
        float sigma = sigmaAt(stepIndex);
        float[] out = new float[original.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = original[i] + noise[i] * sigma;
        }
        return out;
    }

    @Override
    public int order() {
        return 1;
    }

    /** Euler and Euler ancestral keep nothing between steps; LMS overrides this. */
    @Override
    public SchedulerState snapshot() {
        return SchedulerState.EMPTY;
    }

    @Override
    public void restore(SchedulerState state) {
        requireTimesteps();
    }

    protected float sigmaAt(int stepIndex) {
        requireTimesteps();
        if (stepIndex < 0 || stepIndex >= timesteps.length) {
            throw new IndexOutOfBoundsException("step index " + stepIndex + " outside 0.." + (timesteps.length - 1));
        }
        return sigmas[stepIndex];
    }

    /**
     * This step's x0 from the model output at noise level sigma, per prediction_type (diffusers' pred_original_sample),
     * kept for {@link #predictedOriginal()}.
     */
    protected float[] denoise(float[] modelOutput, float[] sample, float sigma) {
        Numerics.requireSameLength(modelOutput, sample);
        float[] out = new float[sample.length];
        switch (config.predictionType()) {
            case "epsilon" -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = sample[i] - sigma * modelOutput[i];
                }
            }
            case "v_prediction" -> {
                float denom = sigma * sigma + 1.0f;
                float outScale = -sigma / (float) Math.sqrt(denom);
                for (int i = 0; i < out.length; i++) {
                    out[i] = modelOutput[i] * outScale + sample[i] / denom;
                }
            }
            case "sample" -> System.arraycopy(modelOutput, 0, out, 0, out.length);
            default -> throw new IllegalArgumentException("unsupported prediction_type " + config.predictionType());
        }
        lastPredictedOriginal = out;
        return out;
    }

    @Override
    public float[] predictedOriginal() {
        return Numerics.copyAfterStep(lastPredictedOriginal);
    }

    protected void requireTimesteps() {
        if (timesteps == null) {
            throw new IllegalStateException("call setTimesteps first");
        }
    }
}
