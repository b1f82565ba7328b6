package dev.latentpipeline.denoise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.latentpipeline.denoise.scheduler.NoiseSource;
import dev.latentpipeline.denoise.scheduler.Scheduler;
import dev.latentpipeline.denoise.scheduler.SchedulerConfig;
import dev.latentpipeline.denoise.scheduler.Schedulers;
import dev.latentpipeline.tensor.FloatTensor;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StartLatentsTest {
    private static final SchedulerConfig SD15 = SchedulerConfig.fromMap(Map.of("beta_schedule", "scaled_linear",
            "beta_start", 0.00085, "beta_end", 0.012, "steps_offset", 1, "skip_prk_steps", true,
            "timestep_spacing", "leading", "set_alpha_to_one", false));

    private static Scheduler scheduler(String name, int steps) {
        Scheduler s = Schedulers.create(name, SD15, NoiseSource.NONE);
        s.setTimesteps(steps);
        return s;
    }

    private static FloatTensor filled(float value) {
        FloatTensor t = FloatTensor.zeros(1, 4, 2, 2);
        java.util.Arrays.fill(t.data(), value);
        return t;
    }

    @Test
    void textToImageScalesUnitNoiseByInitNoiseSigmaFromStepZero() {
        Scheduler euler = scheduler("euler", 10);
        StartLatents start = StartLatents.fromNoise(filled(1), euler);
        assertEquals(0, start.index());
        assertEquals(euler.initNoiseSigma(), start.latents().data()[0], 0);
    }

    @Test
    void strengthPicksTheStartIndexAndNoisesThereAsDiffusersImg2img() {
        // 10 steps, strength 0.3: init 3, t_start 7: DDIM timesteps 901..1 leading, start at timesteps[7] = 201.
        Scheduler ddim = scheduler("ddim", 10);
        StartLatents start = StartLatents.fromImage(filled(2), filled(1), ddim, 10, 0.3);
        assertEquals(7, start.index());
        assertEquals(201, ddim.timesteps()[7], 0);
        assertArrayEquals(ddim.addNoise(filled(2).data(), filled(1).data(), 7), start.latents().data());
        // PNDM (order 1, steps + 1 timesteps): strength 1 starts at 0; 0.5 at index 5 of 11.
        Scheduler pndm = scheduler("pndm", 10);
        assertEquals(11, pndm.timesteps().length);
        assertEquals(0, StartLatents.fromImage(filled(2), filled(1), pndm, 10, 1.0).index());
        assertEquals(5, StartLatents.fromImage(filled(2), filled(1), pndm, 10, 0.5).index());
    }

    @Test
    void noStepsLeftReturnsTheCleanLatentsUntouched() {
        for (double strength : new double[] {0, 0.05}) {
            Scheduler euler = scheduler("euler", 10);
            FloatTensor clean = filled(2);
            StartLatents start = StartLatents.fromImage(clean, filled(1), euler, 10, strength);
            assertSame(clean, start.latents());
            assertEquals(euler.timesteps().length, start.index());
        }
    }
}
