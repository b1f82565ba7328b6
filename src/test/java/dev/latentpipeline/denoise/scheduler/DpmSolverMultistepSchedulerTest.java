package dev.latentpipeline.denoise.scheduler;

import static dev.latentpipeline.denoise.scheduler.DiffusersFixtures.config;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * References from diffusers tests/schedulers/test_scheduler_dpm_multi.py: 1000 steps, linear, solver_order 2,
 * dpmsolver++ midpoint, lower_order_final false, final_sigmas_type sigma_min, 10 steps, no input scaling.
 */
class DpmSolverMultistepSchedulerTest extends SchedulerContractTest {

    @Override
    Scheduler create(SchedulerConfig config) {
        return new DpmSolverMultistepScheduler(config);
    }

    /** DPM-Solver's data prediction: (x - sigma_t m) / alpha_t with alpha_t = sqrt(a), sigma_t = sqrt(1 - a). */
    @Override
    double x0ByHand(String predictionType, double sample, double modelOutput, int timestep) {
        return x0FromAlphaBar(predictionType, sample, modelOutput, timestep);
    }

    static SchedulerConfig base(Object... extra) {
        Object[] head = {"num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02, "beta_schedule", "linear",
            "solver_order", 2, "prediction_type", "epsilon", "algorithm_type", "dpmsolver++", "solver_type", "midpoint",
            "lower_order_final", false, "euler_at_final", false, "final_sigmas_type", "sigma_min"};
        Object[] kv = new Object[head.length + extra.length];
        System.arraycopy(head, 0, kv, 0, head.length);
        System.arraycopy(extra, 0, kv, head.length, extra.length);
        return config(kv);
    }

    private static float[] diffusersLoop(SchedulerConfig config, int start, boolean noise) {
        Scheduler s = new DpmSolverMultistepScheduler(config);
        s.setTimesteps(10);
        return DiffusersFixtures.fullLoop(s, DiffusersFixtures.dummySampleDeter(), start, noise);
    }

    @Test
    void fullLoopNoNoise() {
        assertEquals(0.3301, DiffusersFixtures.meanAbs(diffusersLoop(base(), 0, false)), 1e-3);
    }

    @Test
    void fullLoopWithVPrediction() {
        assertEquals(0.2251, DiffusersFixtures.meanAbs(diffusersLoop(base("prediction_type", "v_prediction"), 0, false)), 1e-3);
    }

    @Test
    void fullLoopWithKarrasAndVPrediction() {
        float[] out = diffusersLoop(base("prediction_type", "v_prediction", "use_karras_sigmas", true), 0, false);
        assertEquals(0.2096, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void fullLoopWithNoiseFromStep5() {
        float[] out = diffusersLoop(base(), 5, true);
        assertEquals(318.4111, DiffusersFixtures.sumAbs(out), 1e-2);
        assertEquals(0.4146, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void linspaceTimestepsDropTheZero() {
        Scheduler s = new DpmSolverMultistepScheduler(config());
        s.setTimesteps(10);
        // linspace(0, 999, 11).round()[::-1][:-1]; numpy rounds half to even (499.5 -> 500, 599.4 -> 599)
        assertArrayEquals(new double[] {999, 899, 799, 699, 599, 500, 400, 300, 200, 100}, s.timesteps(), 0);
    }

    @Test
    void karrasRegistryNameTurnsKarrasOn() {
        Scheduler plain = Schedulers.create("dpmpp_2m", SchedulerConfig.fromJson(SD15_CONFIG), NoiseSource.NONE);
        Scheduler karras = Schedulers.create("dpmpp_2m_karras", SchedulerConfig.fromJson(SD15_CONFIG), NoiseSource.NONE);
        plain.setTimesteps(20);
        karras.setTimesteps(20);
        float[] sigmas = ((DpmSolverMultistepScheduler) karras).sigmas();
        assertEquals(0f, sigmas[20]);
        // karras spans the full training range, from sigma(999) down to sigma(0)
        assertEquals(14.6146, sigmas[0], 1e-3);
        assertEquals(0.0292, sigmas[19], 1e-4);
        assertEquals(999, karras.timesteps()[0], 0);
        assertEquals(0, karras.timesteps()[19], 0);
    }
}

/** The same contract for the Karras variant (its timesteps are rounded from Karras sigmas). */
class DpmSolverMultistepKarrasContractTest extends SchedulerContractTest {
    @Override
    Scheduler create(SchedulerConfig config) {
        return Schedulers.create("dpmpp_2m_karras", config, NoiseSource.NONE);
    }

    @Override
    boolean honoursTimestepSpacing() {
        return false; // diffusers builds Karras sigmas from the whole training table, whatever the spacing
    }

    @Override
    boolean modelSeesTheSchedulersSigma() {
        return false;
    }
}
