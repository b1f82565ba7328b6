package dev.latentpipeline.denoise.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.Test;

/** Behaviour every scheduler must have, run against Stable Diffusion 1.x's scheduler config. */
abstract class SchedulerContractTest {

    /** Stable Diffusion v1.5's scheduler/scheduler_config.json. */
    static final String SD15_CONFIG = """
            {"_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0", "beta_end": 0.012,
             "beta_schedule": "scaled_linear", "beta_start": 0.00085, "num_train_timesteps": 1000,
             "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1, "trained_betas": null,
             "clip_sample": false}""";

    abstract Scheduler create(SchedulerConfig config);

    /** How many model calls a run of {@code steps} makes. */
    int expectedTimestepCount(int steps) {
        return steps;
    }

    /** Whether the sampler is deterministic (the exact-predictor loop is still checked for all). */
    boolean deterministic() {
        return true;
    }

    /** Whether timestep_spacing shapes the schedule (diffusers' LCM ignores it; Karras DPM uses the whole table). */
    boolean honoursTimestepSpacing() {
        return true;
    }

    /**
     * Whether the model sees the noise level the scheduler steps with: Karras DPM rounds its timesteps, so the
     * exact predictor's x0 is only exact where the rounding is (its last step, sigma_min = sigma(0)).
     */
    boolean modelSeesTheSchedulersSigma() {
        return true;
    }

    /**
     * Whether the final sample is the last step's x0 under SD's config: true where the run ends at noise 0 with a
     * single-point step (Euler, Euler ancestral, DPM-Solver's first-order final step, LCM's last step); not for
     * DDIM/PNDM (set_alpha_to_one false leaves sigma(0)) nor LMS (a four-point combination).
     */
    boolean endsOnThePredictedOriginal() {
        return true;
    }

    Scheduler sd15(int steps) {
        Scheduler s = create(SchedulerConfig.fromJson(SD15_CONFIG));
        s.setTimesteps(steps);
        return s;
    }

    @Test
    void timestepsHaveExpectedCountAndRunFromNoisyToClean() {
        for (int steps : new int[] {1, 4, 20, 50}) {
            double[] ts = sd15(steps).timesteps();
            assertEquals(expectedTimestepCount(steps), ts.length, "steps " + steps);
            for (int i = 0; i < ts.length; i++) {
                assertTrue(ts[i] >= 0 && ts[i] <= 999, "timestep in training range: " + ts[i]);
                if (i > 0) {
                    assertTrue(ts[i] <= ts[i - 1], "non-increasing: " + Arrays.toString(ts));
                }
            }
        }
    }

    @Test
    void requiresSetTimestepsFirst() {
        Scheduler s = create(SchedulerConfig.fromJson(SD15_CONFIG));
        assertThrows(IllegalStateException.class, s::timesteps);
    }

    @Test
    void initNoiseSigmaIsPositive() {
        float sigma = sd15(20).initNoiseSigma();
        assertTrue(sigma >= 1.0f && Float.isFinite(sigma), "init noise sigma " + sigma);
    }

    @Test
    void sameInputsGiveSameOutputs() {
        float[] a = exactPredictorLoop(sd15(15), 7);
        float[] b = exactPredictorLoop(sd15(15), 7);
        if (deterministic()) {
            assertArrayEquals(a, b);
        }
        // a second run on the same instance must not see history from the first
        Scheduler reused = sd15(15);
        float[] first = exactPredictorLoop(reused, 7);
        reused.setTimesteps(15);
        float[] second = exactPredictorLoop(reused, 7);
        if (deterministic()) {
            assertArrayEquals(first, second);
        }
    }

    /**
     * The noise level the run ends at under the SD config: 0 for sigma-space samplers; DDIM and PNDM stop at
     * alphas_cumprod[0] because SD sets set_alpha_to_one false (diffusers behaves the same).
     */
    double residualSigma() {
        return 0.0;
    }

    @Test
    void exactNoisePredictorConvergesToTarget() {
        float[] trainingSigmas = new NoiseSchedule(SchedulerConfig.fromJson(SD15_CONFIG)).sigmas();
        for (int steps : new int[] {10, 25, 50}) {
            Scheduler s = sd15(steps);
            float[] result = exactPredictorLoop(s, 0);
            // along the exact ODE path the noise direction e is constant: fix it from the starting sample
            float[] start = startingNoise(s, 0);
            double sStart = Numerics.interp(new double[] {s.timesteps()[0]}, trainingSigmas)[0];
            double inputScale = s.scaleModelInput(new float[] {1f}, 0)[0];
            double r = residualSigma();
            for (int j = 0; j < result.length; j++) {
                double e = (start[j] * inputScale * Math.sqrt(1 + sStart * sStart) - TARGET) / sStart;
                double expected = (TARGET + r * e) / Math.sqrt(1 + r * r);
                assertEquals(expected, result[j], 1e-3, "steps " + steps);
            }
        }
    }

    static float[] startingNoise(Scheduler s, long seed) {
        float[] sample = new float[64];
        new NumpyRandomState(seed).fillGaussian(sample);
        return DiffusersFixtures.scale(sample, s.initNoiseSigma());
    }

    /**
     * timestep_spacing "trailing" (Lin et al. 2023, Table 2; diffusers: round(arange(T, 0, -T / n)) - 1), by hand for
     * T = 1000: n = 1 -> 999; n = 3 -> round(1000, 666.67, 333.33) - 1 = 999, 666, 332; n = 4 -> 999, 749, 499, 249;
     * n = 10 -> 999, 899, ..., 99. Schedulers that ignore the spacing must give the same schedule as without it.
     */
    @Test
    void trailingSpacingEndsTheScheduleAtTheLastTrainingTimestep() {
        SchedulerConfig trailing = SchedulerConfig.fromJson(SD15_CONFIG).with(Map.of("timestep_spacing", "trailing"));
        double[][] expected = {{999}, {999, 666, 332}, {999, 749, 499, 249},
            {999, 899, 799, 699, 599, 499, 399, 299, 199, 99}};
        for (double[] want : expected) {
            Scheduler s = create(trailing);
            s.setTimesteps(want.length);
            if (honoursTimestepSpacing()) {
                assertArrayEquals(want, distinct(s.timesteps()), 0, "trailing, " + want.length + " steps");
            } else {
                assertArrayEquals(sd15(want.length).timesteps(), s.timesteps(), 0, "spacing must not matter");
            }
        }
    }

    private static double[] distinct(double[] ts) {
        return Arrays.stream(ts).distinct().toArray(); // PNDM repeats one timestep
    }

    @Test
    void predictedOriginalIsTheExactPredictorsTargetAtEveryStep() {
        Scheduler s = sd15(15);
        List<float[]> x0s = new ArrayList<>();
        exactPredictorLoop(s, 3, step -> x0s.add(s.predictedOriginal()));
        assertEquals(s.timesteps().length, x0s.size());
        int from = modelSeesTheSchedulersSigma() ? 0 : x0s.size() - 1;
        for (int i = from; i < x0s.size(); i++) {
            for (float v : x0s.get(i)) {
                assertEquals(TARGET, v, 1e-4, "x0 after step " + i);
            }
        }
    }

    /**
     * This scheduler's x0 by hand for one element, in double precision from {@link DiffusersFixtures#sdAlphaBar}:
     * the sample the step was given, the model output, and the (integer) timestep the model saw; NaN to skip.
     */
    double x0ByHand(String predictionType, double sample, double modelOutput, int timestep) {
        return Double.NaN;
    }

    /** The prediction types this scheduler accepts (diffusers' Euler ancestral and PNDM refuse "sample"). */
    List<String> predictionTypes() {
        return List.of("epsilon", "v_prediction", "sample");
    }

    /** alpha-bar form (DDIM's step 3): epsilon (x - sqrt(1 - a) m) / sqrt(a), v sqrt(a) x - sqrt(1 - a) m. */
    static double x0FromAlphaBar(String predictionType, double x, double m, int timestep) {
        double a = DiffusersFixtures.sdAlphaBar(timestep);
        return switch (predictionType) {
            case "epsilon" -> (x - Math.sqrt(1 - a) * m) / Math.sqrt(a);
            case "v_prediction" -> Math.sqrt(a) * x - Math.sqrt(1 - a) * m;
            default -> m;
        };
    }

    /** sigma form (k-diffusion), s = sqrt((1 - a) / a): epsilon x - s m, v -s m / sqrt(s^2 + 1) + x / (s^2 + 1). */
    static double x0FromSigma(String predictionType, double x, double m, int timestep) {
        double a = DiffusersFixtures.sdAlphaBar(timestep);
        double s = Math.sqrt((1 - a) / a);
        return switch (predictionType) {
            case "epsilon" -> x - s * m;
            case "v_prediction" -> -s / Math.sqrt(s * s + 1) * m + x / (s * s + 1);
            default -> m;
        };
    }

    @Test
    void predictedOriginalFollowsThePredictionTypesFormulaAtEveryStep() {
        if (Double.isNaN(x0ByHand("epsilon", 1, 1, 999))) {
            return;
        }
        for (String type : predictionTypes()) {
            Scheduler s = create(SchedulerConfig.fromJson(SD15_CONFIG).with(Map.of("prediction_type", type)));
            s.setTimesteps(10); // integer timesteps for every scheduler under SD's config
            double[] ts = s.timesteps();
            float[] x = DiffusersFixtures.scale(DiffusersFixtures.dummySampleDeter(), s.initNoiseSigma());
            for (int i = 0; i < ts.length; i++) {
                float[] m = DiffusersFixtures.dummyModel(s.scaleModelInput(x, i), ts[i]);
                float[] next = s.step(m, i, x);
                float[] x0 = s.predictedOriginal();
                for (int j = 0; j < x.length; j += 97) {
                    double want = x0ByHand(type, x[j], m[j], (int) ts[i]);
                    assertEquals(want, x0[j], 1e-4 * Math.max(1, Math.abs(want)), type + " step " + i + " at " + j);
                }
                x = next;
            }
        }
    }

    @Test
    void lastStepOfTheDummyModelLoopEndsOnItsPredictedOriginal() {
        // diffusers' dummy model (sample * t / (t + 1)) is no exact predictor: its x0 moves from step to step
        Scheduler s = sd15(10);
        float[] sample = DiffusersFixtures.scale(DiffusersFixtures.dummySampleDeter(), s.initNoiseSigma());
        float[] result = DiffusersFixtures.fullLoop(s, sample, 0, false);
        float[] x0 = s.predictedOriginal();
        double largest = 0;
        for (int i = 0; i < result.length; i++) {
            largest = Math.max(largest, Math.abs(result[i] - x0[i]));
        }
        if (endsOnThePredictedOriginal()) {
            assertEquals(0, largest, 1e-5, "final sample vs last x0");
        } else {
            assertTrue(largest > 1e-4, "a scheduler that ends off its x0 should show it: " + largest);
        }
    }

    @Test
    void predictedOriginalIsRefusedBeforeTheFirstStepOfARun() {
        Scheduler s = sd15(4);
        assertThrows(IllegalStateException.class, s::predictedOriginal);
        float[] x = startingNoise(s, 1);
        s.step(DiffusersFixtures.dummyModel(s.scaleModelInput(x, 0), s.timesteps()[0]), 0, x);
        float[] first = s.predictedOriginal();
        first[0] = Float.NaN; // a copy: changing it changes nothing inside
        assertTrue(Float.isFinite(s.predictedOriginal()[0]));
        s.setTimesteps(4);
        assertThrows(IllegalStateException.class, s::predictedOriginal);
    }

    @Test
    void addNoiseAtLastIndexBarelyChangesTheImage() {
        Scheduler s = sd15(50);
        int last = s.timesteps().length - 1;
        float[] x = new float[] {0.5f, -0.25f, 1.0f};
        float[] noisy = s.addNoise(x, new float[] {1f, -1f, 0.5f}, last);
        for (int i = 0; i < x.length; i++) {
            assertEquals(x[i], noisy[i], 0.15, "low noise at the final timestep");
        }
        float[] veryNoisy = s.addNoise(x, new float[] {1f, -1f, 0.5f}, 0);
        assertTrue(Math.abs(veryNoisy[0] - x[0]) > 0.3, "high noise at the first timestep");
    }

    static final float TARGET = 0.37f;

    /**
     * The built-in test model: for a target x0 it returns eps = (x_in * sqrt(1 + s^2) - x0) / s, with s the
     * training sigma interpolated at the (possibly fractional) timestep. Start from seeded Gaussian noise.
     */
    static float[] exactPredictorLoop(Scheduler s, long seed) {
        return exactPredictorLoop(s, seed, step -> { });
    }

    /** The same loop, calling {@code afterStep} with the index of each step just taken. */
    static float[] exactPredictorLoop(Scheduler s, long seed, IntConsumer afterStep) {
        float[] trainingSigmas = new NoiseSchedule(SchedulerConfig.fromJson(SD15_CONFIG)).sigmas();
        float[] sample = startingNoise(s, seed);
        double[] ts = s.timesteps();
        for (int i = 0; i < ts.length; i++) {
            float[] input = s.scaleModelInput(sample, i);
            double sigma = Numerics.interp(new double[] {ts[i]}, trainingSigmas)[0];
            float[] eps = new float[input.length];
            for (int j = 0; j < eps.length; j++) {
                eps[j] = (float) ((input[j] * Math.sqrt(1 + sigma * sigma) - TARGET) / sigma);
            }
            sample = s.step(eps, i, sample);
            afterStep.accept(i);
        }
        return sample;
    }
}
