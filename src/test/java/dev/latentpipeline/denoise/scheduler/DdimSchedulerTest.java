package dev.latentpipeline.denoise.scheduler;

import static dev.latentpipeline.denoise.scheduler.DiffusersFixtures.config;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** References from diffusers tests/schedulers/test_scheduler_ddim.py (1000 steps, linear, clip_sample true, eta 0). */
class DdimSchedulerTest extends SchedulerContractTest {

    @Override
    Scheduler create(SchedulerConfig config) {
        return new DdimScheduler(config);
    }

    @Override
    double x0ByHand(String predictionType, double sample, double modelOutput, int timestep) {
        return x0FromAlphaBar(predictionType, sample, modelOutput, timestep);
    }

    @Override
    boolean endsOnThePredictedOriginal() {
        return false;
    }

    private static SchedulerConfig base(Object... extra) {
        Object[] kv = new Object[10 + extra.length];
        Object[] head = {"num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02,
            "beta_schedule", "linear", "clip_sample", true};
        System.arraycopy(head, 0, kv, 0, 10);
        System.arraycopy(extra, 0, kv, 10, extra.length);
        return config(kv);
    }

    private static float[] diffusersLoop(SchedulerConfig config, int start, boolean noise) {
        Scheduler s = new DdimScheduler(config);
        s.setTimesteps(10);
        return DiffusersFixtures.fullLoop(s, DiffusersFixtures.dummySampleDeter(), start, noise);
    }

    @Test
    void fullLoopNoNoise() {
        float[] out = diffusersLoop(base(), 0, false);
        assertEquals(172.0067, DiffusersFixtures.sumAbs(out), 1e-2);
        assertEquals(0.223967, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void fullLoopWithVPrediction() {
        float[] out = diffusersLoop(base("prediction_type", "v_prediction"), 0, false);
        assertEquals(52.5302, DiffusersFixtures.sumAbs(out), 1e-2);
        assertEquals(0.0684, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void fullLoopWithSetAlphaToOne() {
        float[] out = diffusersLoop(base("set_alpha_to_one", true, "beta_start", 0.01), 0, false);
        assertEquals(149.8295, DiffusersFixtures.sumAbs(out), 1e-2);
        assertEquals(0.1951, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void fullLoopWithoutSetAlphaToOne() {
        float[] out = diffusersLoop(base("set_alpha_to_one", false, "beta_start", 0.01), 0, false);
        assertEquals(149.0784, DiffusersFixtures.sumAbs(out), 1e-2);
        assertEquals(0.1941, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void fullLoopWithNoiseFromStep8() {
        float[] out = diffusersLoop(base(), 8, true);
        assertEquals(354.5418, DiffusersFixtures.sumAbs(out), 1e-2);
        assertEquals(0.4616, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void stepsOffsetTimesteps() {
        Scheduler s = new DdimScheduler(base("steps_offset", 1));
        s.setTimesteps(5);
        assertArrayEquals(new double[] {801, 601, 401, 201, 1}, s.timesteps(), 0);
    }

    /** SD 1.x sets set_alpha_to_one false: the last step lands on alphas_cumprod[0], i.e. sigma ~0.0292, not 0. */
    static final double SD15_FINAL_SIGMA = Math.sqrt((1 - 0.99915) / 0.99915);

    @Override
    double residualSigma() {
        return SD15_FINAL_SIGMA;
    }

    @Test
    void convergesExactlyWithAlphaSetToOne() {
        SchedulerConfig cfg = SchedulerConfig.fromJson(SD15_CONFIG).with(java.util.Map.of("set_alpha_to_one", true));
        Scheduler s = new DdimScheduler(cfg);
        s.setTimesteps(20);
        for (float v : exactPredictorLoop(s, 5)) {
            assertEquals(TARGET, v, 1e-3);
        }
    }

    @Test
    void variance() {
        DdimScheduler s = new DdimScheduler(base());
        assertEquals(0.0, s.variance(0, 0), 1e-5);
        assertEquals(0.14771, s.variance(420, 400), 1e-5);
        assertEquals(0.32460, s.variance(980, 960), 1e-5);
        assertEquals(0.00979, s.variance(487, 486), 1e-5);
        assertEquals(0.02, s.variance(999, 998), 1e-5);
    }

    @Test
    void etaDrawsReproducibleNoise() {
        SchedulerConfig cfg = SchedulerConfig.fromJson(SD15_CONFIG);
        float[] a = runWithEta(cfg, 3);
        float[] b = runWithEta(cfg, 3);
        float[] c = runWithEta(cfg, 4);
        assertArrayEquals(a, b);
        assertFalse(java.util.Arrays.equals(a, c), "different seeds give different samples");
    }

    private static float[] runWithEta(SchedulerConfig cfg, long seed) {
        DdimScheduler s = new DdimScheduler(cfg, 1.0, new NumpyRandomState(seed));
        s.setTimesteps(10);
        return DiffusersFixtures.fullLoop(s, DiffusersFixtures.dummySampleDeter(), 0, false);
    }

    @Test
    void trailingStepsToTimestepMinusTheIntegerRatioAsDiffusers() {
        // trailing, 3 steps: round(1000, 666.67, 333.33) - 1 = 999, 666, 332; but step() takes
        // prev_t = t - 1000 // 3 = t - 333, so the step from 666 lands on 333 (not on the next timestep, 332)
        SchedulerConfig cfg = base("timestep_spacing", "trailing", "clip_sample", false);
        Scheduler s = new DdimScheduler(cfg);
        s.setTimesteps(3);
        assertArrayEquals(new double[] {999, 666, 332}, s.timesteps(), 0);
        double x = 0.6;
        double eps = 0.3;
        double a = DiffusersFixtures.alphaBar(0.0001, 0.02, false, 1000, 666);
        double aPrev = DiffusersFixtures.alphaBar(0.0001, 0.02, false, 1000, 333);
        double x0 = (x - Math.sqrt(1 - a) * eps) / Math.sqrt(a);
        float[] prev = s.step(new float[] {(float) eps}, 1, new float[] {(float) x});
        assertEquals(Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * eps, prev[0], 1e-4);
        // the last step: 332 - 333 = -1, final_alpha_cumprod 1 (set_alpha_to_one), so the result is x0 itself
        float[] last = s.step(new float[] {(float) eps}, 2, new float[] {(float) x});
        assertArrayEquals(s.predictedOriginal(), last, 1e-6f);
    }

    @Test
    void trailingStepCountsThatReachTimestepMinusOneAreRefused() {
        // see EulerDiscreteSchedulerTest: 61 steps give timestep -1, where diffusers' DDIM would read
        // alphas_cumprod[-1] (the noisiest level) and return noise
        Scheduler s = new DdimScheduler(base("timestep_spacing", "trailing"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(61));
        assertTrue(e.getMessage().contains("61 steps"), e.getMessage());
        s.setTimesteps(60);
        assertEquals(60, s.timesteps().length);
        Scheduler pndm = new PndmScheduler(base("timestep_spacing", "trailing", "skip_prk_steps", true));
        assertThrows(IllegalArgumentException.class, () -> pndm.setTimesteps(61));
    }
}
