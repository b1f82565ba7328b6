package dev.latentpipeline.denoise.scheduler;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers' PNDMScheduler (pseudo numerical methods): Runge-Kutta warm-up steps (PRK) unless skip_prk_steps,
 * then linear multistep (PLMS) over a history of model outputs ({@code ets}).
 *
 * <p>With skip_prk_steps (Stable Diffusion's config) the timesteps are {@code steps + 1} long: the second-to-last
 * training step appears twice, because the first PLMS step is a two-evaluation (Heun-like) step. The model is
 * therefore called {@code timesteps().length} times. Without skip_prk_steps there are 12 PRK evaluations
 * followed by {@code steps - 3} PLMS ones. Defaults: timestep_spacing "leading", set_alpha_to_one false,
 * skip_prk_steps false.
 */
public final class PndmScheduler implements Scheduler {
    private static final int PNDM_ORDER = 4;

    private final SchedulerConfig config;
    private final NoiseSchedule schedule;
    private final float finalAlphaCumprod;
    private final boolean skipPrk;
    private int numInferenceSteps;
    private int[] timesteps;
    private int prkCount;

    // multistep state, as in diffusers
    private final List<float[]> ets = new ArrayList<>();
    private int counter;
    private float[] curModelOutput;
    private float[] curSample;
    private float[] lastPredictedOriginal;

    public PndmScheduler(SchedulerConfig config) {
        if (!config.predictionType().equals("epsilon") && !config.predictionType().equals("v_prediction")) {
            throw new IllegalArgumentException("unsupported prediction_type " + config.predictionType());
        }
        this.config = config;
        this.schedule = new NoiseSchedule(config);
        boolean setAlphaToOne = config.setAlphaToOne() != null && config.setAlphaToOne();
        this.finalAlphaCumprod = setAlphaToOne ? 1.0f : schedule.alphasCumprod[0];
        this.skipPrk = config.skipPrkSteps() != null && config.skipPrkSteps();
    }

    @Override
    public float initNoiseSigma() {
        return 1.0f;
    }

    @Override
    public void setTimesteps(int steps) {
        int[] base = NoiseSchedule.spacedTimesteps(config, steps, "leading"); // checks 1 <= steps <= train steps
        if (!skipPrk && steps < PNDM_ORDER) {
            throw new IllegalArgumentException("`num_inference_steps` must be >= " + PNDM_ORDER
                    + " when skip_prk_steps is false, got " + steps);
        }
        this.numInferenceSteps = steps;
        List<Integer> ts = new ArrayList<>();
        int m = base.length;
        if (skipPrk) {
            // plms_timesteps = concat(base[:-1], base[-2:-1], base[-1:])[::-1]
            List<Integer> ascending = new ArrayList<>();
            for (int i = 0; i < m - 1; i++) {
                ascending.add(base[i]);
            }
            if (m >= 2) {
                ascending.add(base[m - 2]);
            }
            ascending.add(base[m - 1]);
            for (int i = ascending.size() - 1; i >= 0; i--) {
                ts.add(ascending.get(i));
            }
            prkCount = 0;
        } else {
            // the last PNDM_ORDER steps, each paired with its half-way point, repeated for the RK4 stages
            int half = config.numTrainTimesteps() / steps / 2;
            int[] pairs = new int[2 * PNDM_ORDER];
            for (int k = 0; k < PNDM_ORDER; k++) {
                int t = base[m - PNDM_ORDER + k];
                pairs[2 * k] = t;
                pairs[2 * k + 1] = t + half;
            }
            List<Integer> repeated = new ArrayList<>();
            for (int i = 0; i < pairs.length - 1; i++) {
                repeated.add(pairs[i]);
                repeated.add(pairs[i]);
            }
            List<Integer> prk = repeated.subList(1, repeated.size() - 1);
            for (int i = prk.size() - 1; i >= 0; i--) {
                ts.add(prk.get(i));
            }
            prkCount = prk.size();
            for (int i = m - 4; i >= 0; i--) {
                ts.add(base[i]);
            }
        }
        timesteps = ts.stream().mapToInt(Integer::intValue).toArray();
        ets.clear();
        counter = 0;
        curModelOutput = null;
        curSample = null;
        lastPredictedOriginal = null;
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
    public float[] step(float[] modelOutput, int stepIndex, float[] sample) {
        requireTimesteps();
        Numerics.requireSameLength(modelOutput, sample);
        int timestep = timesteps[stepIndex];
        // PNDM steps without an x0 of its own; previews get DDIM's x0 of this output at the timestep the model saw
        lastPredictedOriginal = NoiseSchedule.predictOriginal(config.predictionType(), modelOutput, sample,
                schedule.alphasCumprod[timestep]);
        if (counter < prkCount && !skipPrk) {
            return stepPrk(modelOutput, timestep, sample);
        }
        return stepPlms(modelOutput, timestep, sample);
    }

    private float[] stepPrk(float[] modelOutput, int timestep, float[] sample) {
        int diffToPrev = counter % 2 != 0 ? 0 : config.numTrainTimesteps() / numInferenceSteps / 2;
        int prevTimestep = timestep - diffToPrev;
        int t = timesteps[counter / 4 * 4];
        float[] output = modelOutput;
        switch (counter % 4) {
            case 0 -> {
                curModelOutput = axpy(curModelOutput, 1f / 6, modelOutput);
                ets.add(modelOutput);
                curSample = sample;
            }
            case 1, 2 -> curModelOutput = axpy(curModelOutput, 1f / 3, modelOutput);
            default -> {
                output = axpy(curModelOutput, 1f / 6, modelOutput);
                curModelOutput = null;
            }
        }
        float[] base = curSample != null ? curSample : sample;
        float[] prev = prevSample(base, t, prevTimestep, output);
        counter++;
        return prev;
    }

    private float[] stepPlms(float[] modelOutput, int timestep, float[] sample) {
        int stride = config.numTrainTimesteps() / numInferenceSteps;
        int prevTimestep = timestep - stride;
        if (counter != 1) {
            while (ets.size() > 3) {
                ets.remove(0);
            }
            ets.add(modelOutput);
        } else {
            // second evaluation of the repeated timestep: step from the stored sample over the same interval
            prevTimestep = timestep;
            timestep = timestep + stride;
        }
        int n = sample.length;
        float[] output = new float[n];
        int size = ets.size();
        if (size == 1 && counter == 0) {
            output = modelOutput;
            curSample = sample;
        } else if (size == 1 && counter == 1) {
            float[] e1 = ets.get(0);
            for (int i = 0; i < n; i++) {
                output[i] = (modelOutput[i] + e1[i]) / 2;
            }
            sample = curSample;
            curSample = null;
        } else if (size == 2) {
            float[] e1 = ets.get(1);
            float[] e2 = ets.get(0);
            for (int i = 0; i < n; i++) {
                output[i] = (3 * e1[i] - e2[i]) / 2;
            }
        } else if (size == 3) {
            float[] e1 = ets.get(2);
            float[] e2 = ets.get(1);
            float[] e3 = ets.get(0);
            for (int i = 0; i < n; i++) {
                output[i] = (23 * e1[i] - 16 * e2[i] + 5 * e3[i]) / 12;
            }
        } else {
            float[] e1 = ets.get(size - 1);
            float[] e2 = ets.get(size - 2);
            float[] e3 = ets.get(size - 3);
            float[] e4 = ets.get(size - 4);
            for (int i = 0; i < n; i++) {
                output[i] = (1f / 24) * (55 * e1[i] - 59 * e2[i] + 37 * e3[i] - 9 * e4[i]);
            }
        }
        float[] prev = prevSample(sample, timestep, prevTimestep, output);
        counter++;
        return prev;
    }

    /** Formula (9) of the PNDM paper: x_{t-delta} from x_t and the (combined) noise estimate. */
    private float[] prevSample(float[] sample, int timestep, int prevTimestep, float[] modelOutput) {
        float alphaProdT = schedule.alphasCumprod[timestep];
        float alphaProdPrev = schedule.alphaCumprodAt(prevTimestep, finalAlphaCumprod);
        float betaProdT = 1 - alphaProdT;
        float betaProdPrev = 1 - alphaProdPrev;
        int n = sample.length;
        float[] eps = modelOutput;
        if (config.predictionType().equals("v_prediction")) {
            float a = (float) Math.sqrt(alphaProdT);
            float b = (float) Math.sqrt(betaProdT);
            eps = new float[n];
            for (int i = 0; i < n; i++) {
                eps[i] = a * modelOutput[i] + b * sample[i];
            }
        }
        float sampleCoeff = (float) Math.sqrt(alphaProdPrev / alphaProdT);
        float denom = alphaProdT * (float) Math.sqrt(betaProdPrev)
                + (float) Math.sqrt(alphaProdT * betaProdT * alphaProdPrev);
        float diff = alphaProdPrev - alphaProdT;
        float[] prev = new float[n];
        for (int i = 0; i < n; i++) {
            prev[i] = sampleCoeff * sample[i] - diff * eps[i] / denom;
        }
        return prev;
    }

    private static float[] axpy(float[] acc, float a, float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (acc != null ? acc[i] : 0f) + a * x[i];
        }
        return out;
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

    @Override
    public SchedulerState snapshot() {
        SchedulerState.Builder state = new SchedulerState.Builder().number("counter", counter)
                .number("ets", ets.size()).array("cur_model_output", curModelOutput).array("cur_sample", curSample);
        for (int k = 0; k < ets.size(); k++) {
            state.array("ets." + k, ets.get(k));
        }
        return state.build();
    }

    @Override
    public void restore(SchedulerState state) {
        requireTimesteps();
        counter = (int) state.number("counter", 0);
        curModelOutput = state.array("cur_model_output");
        curSample = state.array("cur_sample");
        ets.clear();
        for (int k = 0; k < state.number("ets", 0); k++) {
            ets.add(state.array("ets." + k));
        }
    }

    private void requireTimesteps() {
        if (timesteps == null) {
            throw new IllegalStateException("call setTimesteps first");
        }
    }
}
