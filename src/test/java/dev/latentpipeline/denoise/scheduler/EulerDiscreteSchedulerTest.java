package dev.latentpipeline.denoise.scheduler;

import static dev.latentpipeline.denoise.scheduler.DiffusersFixtures.config;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** References from diffusers tests/schedulers/test_scheduler_euler.py (train steps 1100, linear betas, 10 steps). */
class EulerDiscreteSchedulerTest extends SchedulerContractTest {

    @Override
    Scheduler create(SchedulerConfig config) {
        return new EulerDiscreteScheduler(config);
    }

    @Override
    double x0ByHand(String predictionType, double sample, double modelOutput, int timestep) {
        return x0FromSigma(predictionType, sample, modelOutput, timestep);
    }

    private static float[] diffusersLoop(SchedulerConfig config, int start, boolean noise) {
        Scheduler s = new EulerDiscreteScheduler(config);
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
        assertEquals(10.0807, DiffusersFixtures.sumAbs(out), 1e-2);
        assertEquals(0.0131, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void fullLoopWithVPrediction() {
        float[] out = diffusersLoop(base("prediction_type", "v_prediction"), 0, false);
        assertEquals(0.0002, DiffusersFixtures.sumAbs(out), 1e-2);
        assertEquals(2.2676e-06, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void fullLoopKarrasSigmas() {
        float[] out = diffusersLoop(base("use_karras_sigmas", true), 0, false);
        assertEquals(124.52299499511719, DiffusersFixtures.sumAbs(out), 1e-2);
        assertEquals(0.16213932633399963, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void fullLoopWithNoiseFromStep8() {
        float[] out = diffusersLoop(base(), 8, true);
        assertEquals(57062.9297, DiffusersFixtures.sumAbs(out), 1e-2);
        assertEquals(74.3007, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void timestepSpacings() {
        // Table 2 of "Common Diffusion Noise Schedules and Sample Steps are Flawed", as diffusers implements it
        assertArrayEquals(new double[] {999, 888, 777, 666, 555, 444, 333, 222, 111, 0}, timesteps("linspace", 0), 1e-4);
        assertArrayEquals(new double[] {901, 801, 701, 601, 501, 401, 301, 201, 101, 1}, timesteps("leading", 1), 0);
        assertArrayEquals(new double[] {999, 899, 799, 699, 599, 499, 399, 299, 199, 99}, timesteps("trailing", 0), 0);
    }

    @Test
    void linspaceTimestepsAreFractionalFloat32() {
        Scheduler s = new EulerDiscreteScheduler(config());
        s.setTimesteps(7);
        // linspace(0, 999, 7) = 0, 166.5, 333, ...: diffusers keeps the fractions
        assertEquals(832.5, s.timesteps()[1], 0);
    }

    @Test
    void finalSigmaIsZeroAndInitSigmaIsTheLargest() {
        EulerDiscreteScheduler s = new EulerDiscreteScheduler(SchedulerConfig.fromJson(SD15_CONFIG));
        s.setTimesteps(30);
        float[] sigmas = s.sigmas();
        assertEquals(31, sigmas.length);
        assertEquals(0f, sigmas[30]);
        assertEquals(sigmas[0], s.initNoiseSigma());
        // SD 1.x: sigma at t=999 is about 14.6146
        assertEquals(14.6146, sigmas[0], 1e-3);
    }

    private static double[] timesteps(String spacing, int offset) {
        Scheduler s = new EulerDiscreteScheduler(config("timestep_spacing", spacing, "steps_offset", offset));
        s.setTimesteps(10);
        return s.timesteps();
    }

    /** stabilityai/sd-turbo's scheduler_config.json (the keys this class reads). */
    static final String SD_TURBO_CONFIG = """
            {"_class_name": "EulerDiscreteScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
             "beta_start": 0.00085, "num_train_timesteps": 1000, "prediction_type": "epsilon", "steps_offset": 1,
             "timestep_spacing": "trailing", "use_karras_sigmas": false}""";

    @Test
    void sdTurboOneStepRunsFromTheLastTrainingTimestepToItsX0() {
        Scheduler s = new EulerDiscreteScheduler(SchedulerConfig.fromJson(SD_TURBO_CONFIG));
        s.setTimesteps(1);
        // trailing ignores steps_offset: round(arange(1000, 0, -1000)) - 1 = [999]
        assertArrayEquals(new double[] {999}, s.timesteps(), 0);
        // trailing (like linspace) starts from sigma_max itself, not sqrt(sigma_max^2 + 1) as leading does
        double a = DiffusersFixtures.sdAlphaBar(999);
        double sigmaMax = Math.sqrt((1 - a) / a);
        assertEquals(sigmaMax, s.initNoiseSigma(), 1e-4);
        // one Euler step to sigma 0 lands on x0 = x - sigma eps
        float[] x = {(float) (0.5 * sigmaMax)};
        float[] eps = {0.4f};
        float[] out = s.step(eps, 0, x);
        assertEquals(0.5 * sigmaMax - sigmaMax * 0.4, out[0], 1e-4);
        assertArrayEquals(s.predictedOriginal(), out, 1e-6f);
        Scheduler leading = new EulerDiscreteScheduler(
                SchedulerConfig.fromJson(SD_TURBO_CONFIG).with(Map.of("timestep_spacing", "leading")));
        leading.setTimesteps(1);
        assertEquals(1, leading.timesteps()[0], 0); // leading: arange(1) * 1000 + steps_offset
        double leadingSigma = Math.sqrt((1 - DiffusersFixtures.sdAlphaBar(1)) / DiffusersFixtures.sdAlphaBar(1));
        assertEquals(Math.sqrt(leadingSigma * leadingSigma + 1), leading.initNoiseSigma(), 1e-4);
    }

    @Test
    void trailingKeepsNumpysExtraTimestepForSomeStepCountsAsDiffusersDoes() {
        // 1000 / (1000 / 61) = 61.00000000000001, so np.arange(1000, 0, -1000/61) has 62 elements, the last
        // -5.7e-13, which rounds to 0: diffusers' Euler then runs 62 steps, the last at timestep -1, whose sigma
        // np.interp clamps to sigma(0); harmless for the sigma samplers, so kept
        Scheduler s = new EulerDiscreteScheduler(SchedulerConfig.fromJson(SD_TURBO_CONFIG));
        s.setTimesteps(61);
        double[] ts = s.timesteps();
        assertEquals(62, ts.length);
        assertEquals(15, ts[60], 0);
        assertEquals(-1, ts[61], 0);
        float[] sigmas = ((EulerDiscreteScheduler) s).sigmas();
        double a0 = DiffusersFixtures.sdAlphaBar(0);
        assertEquals(Math.sqrt((1 - a0) / a0), sigmas[61], 1e-6);
    }
}
