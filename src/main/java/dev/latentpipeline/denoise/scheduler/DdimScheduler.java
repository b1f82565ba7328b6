package dev.latentpipeline.denoise.scheduler;

/**
 * diffusers' DDIMScheduler. Deterministic for eta = 0 (the default); eta > 0 draws noise from the NoiseSource.
 * Defaults as in diffusers: timestep_spacing "leading", clip_sample true, set_alpha_to_one true.
 */
public final class DdimScheduler implements Scheduler {
    private final SchedulerConfig config;
    private final NoiseSchedule schedule;
    private final float finalAlphaCumprod;
    private final double eta;
    private final NoiseSource noise;
    private int numInferenceSteps;
    private int[] timesteps;
    private float[] lastPredictedOriginal;

    public DdimScheduler(SchedulerConfig config) {
        this(config, 0.0, NoiseSource.NONE);
    }

    public DdimScheduler(SchedulerConfig config, double eta, NoiseSource noise) {
        if (eta < 0) {
            throw new IllegalArgumentException("eta must be >= 0, got " + eta);
        }
        this.config = config;
        this.schedule = new NoiseSchedule(config);
        boolean setAlphaToOne = config.setAlphaToOne() != null ? config.setAlphaToOne() : true;
        this.finalAlphaCumprod = setAlphaToOne ? 1.0f : schedule.alphasCumprod[0];
        this.eta = eta;
        this.noise = noise;
    }

    @Override
    public float initNoiseSigma() {
        return 1.0f;
    }

    @Override
    public void setTimesteps(int steps) {
        int[] ascending = NoiseSchedule.spacedTimesteps(config, steps, "leading");
        int[] ts = new int[ascending.length];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = ascending[ts.length - 1 - i];
        }
        this.numInferenceSteps = steps;
        this.timesteps = ts;
        this.lastPredictedOriginal = null;
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

    private float alphaCumprodAt(int t) {
        return schedule.alphaCumprodAt(t, finalAlphaCumprod);
    }

    /** diffusers' _get_variance(t, prev_t): sigma_t^2 / eta^2 of the DDIM paper, eq. (16). */
    float variance(int t, int prevT) {
        float alphaProdT = alphaCumprodAt(t);
        float alphaProdPrev = alphaCumprodAt(prevT);
        float betaProdT = 1 - alphaProdT;
        float betaProdPrev = 1 - alphaProdPrev;
        return (betaProdPrev / betaProdT) * (1 - alphaProdT / alphaProdPrev);
    }

    @Override
    public float[] step(float[] modelOutput, int stepIndex, float[] sample) {
        requireTimesteps();
        Numerics.requireSameLength(modelOutput, sample);
        int t = timesteps[stepIndex];
        int prevT = t - config.numTrainTimesteps() / numInferenceSteps;
        float alphaProdT = schedule.alphasCumprod[t];
        float alphaProdPrev = alphaCumprodAt(prevT);
        float betaProdT = 1 - alphaProdT;
        float sqrtAlpha = (float) Math.sqrt(alphaProdT);
        float sqrtBeta = (float) Math.sqrt(betaProdT);

        int n = sample.length;
        float[] predOriginal = NoiseSchedule.predictOriginal(config.predictionType(), modelOutput, sample, alphaProdT);
        float[] predEpsilon = switch (config.predictionType()) {
            case "epsilon" -> modelOutput;
            case "sample" -> {
                float[] eps = new float[n];
                for (int i = 0; i < n; i++) {
                    eps[i] = (sample[i] - sqrtAlpha * predOriginal[i]) / sqrtBeta;
                }
                yield eps;
            }
            default -> { // v_prediction (predictOriginal refused any other type)
                float[] eps = new float[n];
                for (int i = 0; i < n; i++) {
                    eps[i] = sqrtAlpha * modelOutput[i] + sqrtBeta * sample[i];
                }
                yield eps;
            }
        };
        boolean clip = config.clipSample() != null ? config.clipSample() : true;
        if (clip) {
            float range = config.clipSampleRange().floatValue();
            for (int i = 0; i < n; i++) {
                predOriginal[i] = Math.max(-range, Math.min(range, predOriginal[i]));
            }
        }
        lastPredictedOriginal = predOriginal; // diffusers' pred_original_sample: after clipping
        float stdDev = (float) (eta * Math.sqrt(variance(t, prevT)));
        float sqrtAlphaPrev = (float) Math.sqrt(alphaProdPrev);
        float directionScale = (float) Math.sqrt(1 - alphaProdPrev - stdDev * stdDev);
        float[] prev = new float[n];
        for (int i = 0; i < n; i++) {
            prev[i] = sqrtAlphaPrev * predOriginal[i] + directionScale * predEpsilon[i];
        }
        if (eta > 0) {
            float[] z = new float[n];
            noise.fillGaussian(z);
            for (int i = 0; i < n; i++) {
                prev[i] += stdDev * z[i];
            }
        }
        return prev;
    }

    @Override
    public float[] predictedOriginal() {
        return Numerics.copyAfterStep(lastPredictedOriginal);
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

    /** DDIM keeps nothing between steps (its eta noise comes from the NoiseSource). */
    @Override
    public SchedulerState snapshot() {
        return SchedulerState.EMPTY;
    }

    @Override
    public void restore(SchedulerState state) {
        requireTimesteps();
    }

    private void requireTimesteps() {
        if (timesteps == null) {
            throw new IllegalStateException("call setTimesteps first");
        }
    }
}
