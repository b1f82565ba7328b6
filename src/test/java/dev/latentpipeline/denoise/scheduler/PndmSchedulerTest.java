package dev.latentpipeline.denoise.scheduler;

import static dev.latentpipeline.denoise.scheduler.DiffusersFixtures.config;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * References from diffusers tests/schedulers/test_scheduler_pndm.py (1000 steps, linear betas, 10 steps). Those
 * use diffusers' default skip_prk_steps=false (PRK warm-up then PLMS); the contract tests use SD's skip_prk_steps.
 */
class PndmSchedulerTest extends SchedulerContractTest {

    @Override
    Scheduler create(SchedulerConfig config) {
        return new PndmScheduler(config);
    }

    /** PNDM has no x0 of its own: DDIM's, at the timestep the model saw. */
    @Override
    double x0ByHand(String predictionType, double sample, double modelOutput, int timestep) {
        return x0FromAlphaBar(predictionType, sample, modelOutput, timestep);
    }

    @Override
    List<String> predictionTypes() {
        return List.of("epsilon", "v_prediction");
    }

    @Override
    boolean endsOnThePredictedOriginal() {
        return false;
    }

    @Override
    int expectedTimestepCount(int steps) {
        return steps == 1 ? 1 : steps + 1; // skip_prk_steps repeats the second-to-last timestep
    }

    private static SchedulerConfig base(Object... extra) {
        Object[] kv = new Object[8 + extra.length];
        Object[] head = {"num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02, "beta_schedule", "linear"};
        System.arraycopy(head, 0, kv, 0, 8);
        System.arraycopy(extra, 0, kv, 8, extra.length);
        return config(kv);
    }

    private static float[] diffusersLoop(SchedulerConfig config) {
        Scheduler s = new PndmScheduler(config);
        s.setTimesteps(10);
        return DiffusersFixtures.fullLoop(s, DiffusersFixtures.dummySampleDeter(), 0, false);
    }

    @Test
    void fullLoopNoNoise() {
        float[] out = diffusersLoop(base());
        assertEquals(198.1318, DiffusersFixtures.sumAbs(out), 1e-2);
        assertEquals(0.2580, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void fullLoopWithVPrediction() {
        float[] out = diffusersLoop(base("prediction_type", "v_prediction"));
        assertEquals(67.3986, DiffusersFixtures.sumAbs(out), 1e-2);
        assertEquals(0.0878, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void fullLoopWithSetAlphaToOne() {
        float[] out = diffusersLoop(base("set_alpha_to_one", true, "beta_start", 0.01));
        assertEquals(230.0399, DiffusersFixtures.sumAbs(out), 1e-2);
        assertEquals(0.2995, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void fullLoopWithoutSetAlphaToOne() {
        float[] out = diffusersLoop(base("set_alpha_to_one", false, "beta_start", 0.01));
        assertEquals(186.9482, DiffusersFixtures.sumAbs(out), 1e-2);
        assertEquals(0.2434, DiffusersFixtures.meanAbs(out), 1e-3);
    }

    @Test
    void prkTimestepsWithStepsOffset() {
        Scheduler s = new PndmScheduler(base("steps_offset", 1));
        s.setTimesteps(10);
        assertArrayEquals(new double[] {901, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601,
            601, 501, 401, 301, 201, 101, 1}, s.timesteps(), 0);
    }

    @Test
    void skipPrkTimestepsRepeatTheSecondToLast() {
        Scheduler s = new PndmScheduler(base("steps_offset", 1, "skip_prk_steps", true));
        s.setTimesteps(10);
        assertArrayEquals(new double[] {901, 801, 801, 701, 601, 501, 401, 301, 201, 101, 1}, s.timesteps(), 0);
    }

    @Override
    double residualSigma() {
        return DdimSchedulerTest.SD15_FINAL_SIGMA;
    }

    @Test
    void convergesExactlyWithAlphaSetToOne() {
        SchedulerConfig cfg = SchedulerConfig.fromJson(SD15_CONFIG).with(java.util.Map.of("set_alpha_to_one", true));
        Scheduler s = new PndmScheduler(cfg);
        s.setTimesteps(20);
        for (float v : exactPredictorLoop(s, 5)) {
            assertEquals(TARGET, v, 1e-3);
        }
    }

    @Test
    void prkNeedsAtLeastFourSteps() {
        Scheduler s = new PndmScheduler(base());
        assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(3));
    }
}
