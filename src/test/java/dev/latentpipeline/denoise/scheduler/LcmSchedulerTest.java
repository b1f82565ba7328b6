package dev.latentpipeline.denoise.scheduler;

import static dev.latentpipeline.denoise.scheduler.DiffusersFixtures.config;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * References from diffusers tests/schedulers/test_scheduler_lcm.py (1000 steps, 0.00085 to 0.012 scaled_linear,
 * epsilon, original_inference_steps 50, dummy model, noise from torch.manual_seed(0)); the timesteps written out
 * below are derived by hand from LCMScheduler.set_timesteps.
 */
class LcmSchedulerTest extends SchedulerContractTest {

    @Override
    Scheduler create(SchedulerConfig config) {
        return new LcmScheduler(config, new NumpyRandomState(0));
    }

    /** The boundary condition on DDIM's x0: c_out x0 + c_skip x (c_skip, c_out as in the step test below). */
    @Override
    double x0ByHand(String predictionType, double sample, double modelOutput, int timestep) {
        double scaled = 10.0 * timestep;
        double cSkip = 0.25 / (scaled * scaled + 0.25);
        double cOut = scaled / Math.sqrt(scaled * scaled + 0.25);
        return cOut * x0FromAlphaBar(predictionType, sample, modelOutput, timestep) + cSkip * sample;
    }

    @Override
    boolean deterministic() {
        return false; // one shared NoiseSource per instance, as euler_a
    }

    @Override
    boolean honoursTimestepSpacing() {
        return false;
    }

    private static SchedulerConfig base(Object... extra) {
        Object[] head = {"num_train_timesteps", 1000, "beta_start", 0.00085, "beta_end", 0.012,
            "beta_schedule", "scaled_linear", "prediction_type", "epsilon"};
        Object[] kv = new Object[head.length + extra.length];
        System.arraycopy(head, 0, kv, 0, head.length);
        System.arraycopy(extra, 0, kv, head.length, extra.length);
        return config(kv);
    }

    private static double[] timesteps(SchedulerConfig config, int steps, double strength) {
        Scheduler s = new LcmScheduler(config, NoiseSource.NONE);
        s.setTimesteps(steps, strength);
        return s.timesteps();
    }

    @Test
    void fullLoopOneStep() {
        // one step draws no noise, so this is diffusers' number exactly: sum 18.7097, mean 0.0244
        Scheduler s = new LcmScheduler(base(), NoiseSource.NONE);
        s.setTimesteps(1);
        float[] out = DiffusersFixtures.fullLoop(s, DiffusersFixtures.dummySampleDeter(), 0, false);
        assertEquals(18.7097, DiffusersFixtures.sumAbs(out), 1e-3);
        assertEquals(0.0244, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void fullLoopMultistepWithTorchsNoise() {
        // 10 steps, nine noise draws from torch.manual_seed(0): sum 197.7616, mean 0.2575. The dummy model shrinks
        // the sample at every step, so the result is mostly the injected noise and its scales (numpy's RandomState(0)
        // noise instead gives 199.26). The sample is laid out as the test's permuted tensor, so each draw meets its
        // element as in diffusers.
        Scheduler s = new LcmScheduler(base(), new TorchCpuRandn(0));
        s.setTimesteps(10);
        float[] out = DiffusersFixtures.fullLoop(s, DiffusersFixtures.dummySampleDeterInTensorOrder(), 0, false);
        assertEquals(197.7616, DiffusersFixtures.sumAbs(out), 1e-3);
        assertEquals(0.2575, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void lastTimestepsOfDiffusersTest() {
        // test_inference_steps: (t, steps) = (99, 10), (39, 25), (39, 26), (19, 50)
        int[][] cases = {{99, 10}, {39, 25}, {39, 26}, {19, 50}};
        for (int[] c : cases) {
            double[] ts = timesteps(base(), c[1], 1.0);
            assertEquals(c[1], ts.length);
            assertEquals(c[0], ts[ts.length - 1], 0, c[1] + " steps");
        }
    }

    @Test
    void timestepsSampleTheDistillationSchedule() {
        // k = 1000 // 50 = 20; distillation timesteps 20 i - 1 for i = 1..50, newest first: 999, 979, ..., 19.
        // 4 steps: floor(linspace(0, 50, 4, endpoint=False)) = floor(0, 12.5, 25, 37.5) = 0, 12, 25, 37
        // -> 999 - 20 * (0, 12, 25, 37) = 999, 759, 499, 259.
        assertArrayEquals(new double[] {999, 759, 499, 259}, timesteps(base(), 4, 1.0), 0);
        // original_inference_steps 20: k = 50, timesteps 50 i - 1; 3 steps: floor(0, 6.67, 13.33) = 0, 6, 13
        // -> 999 - 50 * (0, 6, 13) = 999, 699, 349.
        assertArrayEquals(new double[] {999, 699, 349},
                timesteps(base("original_inference_steps", 20), 3, 1.0), 0);
        // one step: the last training timestep only
        assertArrayEquals(new double[] {999}, timesteps(base(), 1, 1.0), 0);
    }

    @Test
    void strengthShortensTheDistillationScheduleAndImg2imgStartsAtItsHead() {
        // strength 0.5: int(50 * 0.5) = 25 distillation timesteps 19..499, newest first; 4 steps:
        // floor(linspace(0, 25, 4, endpoint=False)) = floor(0, 6.25, 12.5, 18.75) = 0, 6, 12, 18
        // -> 499 - 20 * (0, 6, 12, 18) = 499, 379, 259, 139: all four steps run, from timestep 499.
        Scheduler s = new LcmScheduler(base(), NoiseSource.NONE);
        s.setTimesteps(4, 0.5);
        assertArrayEquals(new double[] {499, 379, 259, 139}, s.timesteps(), 0);
        assertEquals(0, s.img2imgStartIndex(4, 0.5));
        // the pipeline noises the image to timesteps[0] with DDPM's add_noise: sqrt(abar) x + sqrt(1 - abar) n
        float[] noised = s.addNoise(new float[] {1f}, new float[] {1f}, 0);
        double abar = DiffusersFixtures.sdAlphaBar(499);
        assertEquals(Math.sqrt(abar) + Math.sqrt(1 - abar), noised[0], 1e-5);
        // strength 0.2 with 4 steps: int(10) = 10 timesteps 199, 179, ..., 19; floor(0, 2.5, 5, 7.5) = 0, 2, 5, 7
        // -> 199 - 20 * (0, 2, 5, 7) = 199, 159, 99, 59 (the generic rule, int(4 * 0.2) = 0 steps, denoises nothing)
        assertArrayEquals(new double[] {199, 159, 99, 59}, timesteps(base(), 4, 0.2), 0);
    }

    @Test
    void tooFewDistillationTimestepsForTheStepsAreRefusedAsInDiffusers() {
        // int(50 * 0.06) = 3 timesteps cannot give 4 steps (diffusers: skipping_step 3 // 4 < 1 raises)
        Scheduler s = new LcmScheduler(base(), NoiseSource.NONE);
        assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(4, 0.06));
        assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(51));
        assertThrows(IllegalArgumentException.class,
                () -> new LcmScheduler(base("original_inference_steps", 1001), NoiseSource.NONE).setTimesteps(1));
        // strength 0.01: no distillation timestep at all; nothing to denoise, as strength 0 everywhere
        s.setTimesteps(4, 0.01);
        assertEquals(0, s.timesteps().length);
        assertEquals(s.timesteps().length, s.img2imgStartIndex(4, 0.01));
    }

    @Test
    void noiseIsDrawnBetweenStepsOnly() {
        int[] draws = {0};
        NoiseSource counting = out -> {
            draws[0]++;
            java.util.Arrays.fill(out, 0f);
        };
        Scheduler s = new LcmScheduler(base(), counting);
        s.setTimesteps(4);
        DiffusersFixtures.fullLoop(s, DiffusersFixtures.dummySampleDeter(), 0, false);
        assertEquals(3, draws[0], "one draw after each step but the last");
    }

    /**
     * One step by hand: c_skip = 0.25 / ((10 t)^2 + 0.25), c_out = 10 t / sqrt((10 t)^2 + 0.25); x0 per
     * prediction_type from alpha-bar_t; denoised = c_out x0 + c_skip x; with zero noise the next sample is
     * sqrt(alpha-bar_prev) denoised. At t = 259 (the last of 4 steps, 499 before it) with x = 0.8, m = 0.3.
     */
    @Test
    void stepAppliesTheBoundaryConditionToEachPredictionType() {
        double x = 0.8;
        double m = 0.3;
        for (String type : new String[] {"epsilon", "v_prediction", "sample"}) {
            LcmScheduler s = new LcmScheduler(base("prediction_type", type), out -> java.util.Arrays.fill(out, 0f));
            s.setTimesteps(4);
            int t = 499;
            double a = DiffusersFixtures.sdAlphaBar(t);
            double x0 = switch (type) {
                case "epsilon" -> (x - Math.sqrt(1 - a) * m) / Math.sqrt(a);
                case "v_prediction" -> Math.sqrt(a) * x - Math.sqrt(1 - a) * m;
                default -> m;
            };
            double scaled = 10.0 * t;
            double cSkip = 0.25 / (scaled * scaled + 0.25);
            double cOut = scaled / Math.sqrt(scaled * scaled + 0.25);
            double denoised = cOut * x0 + cSkip * x;
            float[] prev = s.step(new float[] {(float) m}, 2, new float[] {(float) x});
            assertEquals(denoised, s.predictedOriginal()[0], 1e-5, type);
            assertEquals(Math.sqrt(DiffusersFixtures.sdAlphaBar(259)) * denoised, prev[0], 1e-5, type);
            // the last step returns denoised itself
            float[] last = s.step(new float[] {(float) m}, 3, new float[] {(float) x});
            assertArrayEquals(s.predictedOriginal(), last, type);
        }
    }

    @Test
    void timestepScalingShapesTheBoundaryCondition() {
        // timestep_scaling 0.01 at t = 19: scaled 0.19, c_skip = 0.25 / 0.2861 = 0.8738, c_out = 0.19 / 0.5349 = 0.3552
        LcmScheduler s = new LcmScheduler(base("timestep_scaling", 0.01, "prediction_type", "sample"),
                NoiseSource.NONE);
        s.setTimesteps(50);
        float[] out = s.step(new float[] {1f}, 49, new float[] {0f});
        assertEquals(0.19 / Math.sqrt(0.19 * 0.19 + 0.25), out[0], 1e-6);
        out = s.step(new float[] {0f}, 49, new float[] {1f});
        assertEquals(0.25 / (0.19 * 0.19 + 0.25), out[0], 1e-6);
    }

    @Test
    void betasDefaultToLcmsOwnNotDdpms() {
        // LCMScheduler's signature defaults are 0.00085, 0.012, scaled_linear (DDIM and the others: 0.0001, 0.02,
        // linear); a config without beta keys must noise as Stable Diffusion's schedule does
        Scheduler s = new LcmScheduler(SchedulerConfig.defaults(), NoiseSource.NONE);
        s.setTimesteps(4);
        double abar = DiffusersFixtures.sdAlphaBar(999);
        assertEquals(Math.sqrt(abar), s.addNoise(new float[] {1f}, new float[] {0f}, 0)[0], 1e-6);
    }

    @Test
    void restoreRefusesASnapshotOfAnotherStrengthsSchedule() {
        Scheduler img2img = new LcmScheduler(base(), NoiseSource.NONE);
        img2img.setTimesteps(4, 0.5);
        SchedulerState state = img2img.snapshot();
        Scheduler resumed = new LcmScheduler(base(), NoiseSource.NONE);
        resumed.setTimesteps(4);
        assertThrows(IllegalStateException.class, () -> resumed.restore(state));
        resumed.setTimesteps(4, 0.5);
        resumed.restore(state);
    }

    @Test
    void registeredByNameAndClass() {
        assertEquals(java.util.Optional.of("lcm"), Schedulers.nameForClass("LCMScheduler"));
        Scheduler s = Schedulers.create("lcm", SchedulerConfig.fromJson(SD15_CONFIG), NoiseSource.NONE);
        assertEquals(LcmScheduler.class, s.getClass());
    }
}
