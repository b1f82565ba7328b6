package dev.latentpipeline.denoise.scheduler;

import static dev.latentpipeline.denoise.scheduler.DiffusersFixtures.config;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** References from diffusers tests/schedulers/test_scheduler_lms.py (train steps 1100, linear betas, 10 steps). */
class LmsDiscreteSchedulerTest extends SchedulerContractTest {

    @Override
    Scheduler create(SchedulerConfig config) {
        return new LmsDiscreteScheduler(config);
    }

    @Override
    double x0ByHand(String predictionType, double sample, double modelOutput, int timestep) {
        return x0FromSigma(predictionType, sample, modelOutput, timestep);
    }

    @Override
    boolean endsOnThePredictedOriginal() {
        return false;
    }

    private static float[] diffusersLoop(SchedulerConfig config, int start, boolean noise) {
        Scheduler s = new LmsDiscreteScheduler(config);
        s.setTimesteps(10);
        float[] sample = DiffusersFixtures.scale(DiffusersFixtures.dummySampleDeter(), s.initNoiseSigma());
        return DiffusersFixtures.fullLoop(s, sample, start, noise);
    }

    private static SchedulerConfig base(Object... extra) {
        Object[] kv = new Object[8 + extra.length];
        Object[] head = {"num_train_timesteps", 1100, "beta_start", 0.0001, "beta_end", 0.02, "beta_schedule", "linear"};
        System.arraycopy(head, 0, kv, 0, 8);
        System.arraycopy(extra, 0, kv, 8, extra.length);
        return config(kv);
    }

    @Test
    void fullLoopNoNoise() {
        float[] out = diffusersLoop(base(), 0, false);
        assertEquals(1006.388, DiffusersFixtures.sumAbs(out), 1e-2);
        assertEquals(1.31, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void fullLoopWithVPrediction() {
        float[] out = diffusersLoop(base("prediction_type", "v_prediction"), 0, false);
        assertEquals(0.0017, DiffusersFixtures.sumAbs(out), 1e-2);
        assertEquals(2.2676e-06, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void fullLoopKarrasSigmas() {
        float[] out = diffusersLoop(base("use_karras_sigmas", true), 0, false);
        assertEquals(3812.9927, DiffusersFixtures.sumAbs(out), 2e-2);
        assertEquals(4.9648, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void fullLoopWithNoiseFromStep8() {
        float[] out = diffusersLoop(base(), 8, true);
        assertEquals(27663.6895, DiffusersFixtures.sumAbs(out), 1e-2);
        assertEquals(36.0204, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void coefficientsMatchClosedForms() {
        LmsDiscreteScheduler s = new LmsDiscreteScheduler(config());
        s.setTimesteps(10);
        float[] sig = s.sigmas();
        // order 1: the integral of 1 over [sigma_t, sigma_t+1]
        assertEquals((double) sig[4] - sig[3], s.lmsCoefficient(1, 3, 0), 1e-12);
        // order 2 (Adams-Bashforth on a non-uniform grid): integral of (tau - s_{t-1}) / (s_t - s_{t-1})
        double a = sig[3];
        double b = sig[4];
        double p = sig[2];
        double expected = ((b - p) * (b - p) - (a - p) * (a - p)) / 2 / (a - p);
        assertEquals(expected, s.lmsCoefficient(2, 3, 0), 1e-10);
        // the basis polynomials sum to 1, so the coefficients sum to the interval length
        double sum = 0;
        for (int k = 0; k < 4; k++) {
            sum += s.lmsCoefficient(4, 5, k);
        }
        assertEquals((double) sig[6] - sig[5], sum, 1e-10);
    }
}
