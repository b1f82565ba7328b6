package dev.latentpipeline.denoise.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SchedulersTest {

    @Test
    void createsEveryRegisteredName() {
        SchedulerConfig cfg = SchedulerConfig.fromJson(SchedulerContractTest.SD15_CONFIG);
        for (String name : Schedulers.NAMES) {
            Scheduler s = Schedulers.create(name, cfg, new NumpyRandomState(1));
            s.setTimesteps(20);
            assertTrue(s.timesteps().length >= 20, name);
        }
        assertInstanceOf(PndmScheduler.class, Schedulers.create("pndm", cfg, NoiseSource.NONE));
        assertInstanceOf(EulerAncestralDiscreteScheduler.class, Schedulers.create("euler_a", cfg, NoiseSource.NONE));
    }

    @Test
    void unknownNameListsValidNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Schedulers.create("heun", SchedulerConfig.defaults(), NoiseSource.NONE));
        assertTrue(e.getMessage().contains("dpmpp_2m_karras") && e.getMessage().contains("euler_a"), e.getMessage());
    }

    @Test
    void mapsDiffusersClassNames() {
        assertEquals(Optional.of("pndm"), Schedulers.nameForClass("PNDMScheduler"));
        assertEquals(Optional.of("euler_a"), Schedulers.nameForClass("EulerAncestralDiscreteScheduler"));
        assertEquals(Optional.of("lms"), Schedulers.nameForClass("LMSDiscreteScheduler"));
        assertEquals(Optional.of("lcm"), Schedulers.nameForClass("LCMScheduler"));
        assertEquals(Optional.empty(), Schedulers.nameForClass("HeunDiscreteScheduler"));
        SchedulerConfig dpmKarras = SchedulerConfig.fromJson(
                "{\"_class_name\": \"DPMSolverMultistepScheduler\", \"use_karras_sigmas\": true}");
        assertEquals(Optional.of("dpmpp_2m_karras"), Schedulers.defaultName(dpmKarras));
        assertEquals(Optional.of("pndm"),
                Schedulers.defaultName(SchedulerConfig.fromJson(SchedulerContractTest.SD15_CONFIG)));
    }

    @Test
    void configKeepsPerSchedulerDefaultsOpen() {
        SchedulerConfig cfg = SchedulerConfig.fromJson(SchedulerContractTest.SD15_CONFIG);
        assertEquals("PNDMScheduler", cfg.className());
        assertEquals(0.00085, cfg.betaStart());
        assertEquals(1, cfg.stepsOffset());
        assertNull(cfg.timestepSpacing());
        assertNull(cfg.trainedBetas());
        assertEquals("epsilon", cfg.predictionType());
        SchedulerConfig changed = cfg.with(Map.of("prediction_type", "v_prediction"));
        assertEquals("v_prediction", changed.predictionType());
        assertEquals(0.012, changed.betaEnd());
    }

    @Test
    void img2imgStartIndexFollowsDiffusers() {
        assertEquals(15, Schedulers.img2imgStartIndex(50, 0.7, 1));
        assertEquals(0, Schedulers.img2imgStartIndex(50, 1.0, 1));
        assertEquals(50, Schedulers.img2imgStartIndex(50, 0.0, 1));
    }

    @Test
    void img2imgOnTheInterfaceIsDiffusersGetTimestepsForAllButLcm() {
        // 10 steps, strength 0.3: init = int(3.0) = 3, t_start = 7; strength 0.05: int(0.5) = 0, nothing to denoise
        SchedulerConfig cfg = SchedulerConfig.fromJson(SchedulerContractTest.SD15_CONFIG);
        for (String name : Schedulers.NAMES) {
            if (name.equals("lcm")) {
                continue; // builds its schedule from the strength: LcmSchedulerTest
            }
            Scheduler full = Schedulers.create(name, cfg, new NumpyRandomState(1));
            full.setTimesteps(10);
            Scheduler img2img = Schedulers.create(name, cfg, new NumpyRandomState(1));
            img2img.setTimesteps(10, 0.3);
            assertArrayEquals(full.timesteps(), img2img.timesteps(), 0, name);
            assertEquals(7, img2img.img2imgStartIndex(10, 0.3), name);
            assertEquals(img2img.timesteps().length, img2img.img2imgStartIndex(10, 0.05), name);
            assertThrows(IllegalArgumentException.class, () -> img2img.setTimesteps(10, 1.5), name);
        }
    }

    @Test
    void scaledLinearBetasMatchTorch() {
        NoiseSchedule s = new NoiseSchedule(SchedulerConfig.fromJson(SchedulerContractTest.SD15_CONFIG));
        assertEquals(0.00085f, s.betas[0], 1e-9f);
        assertEquals(0.012f, s.betas[999], 1e-8f);
        // numpy's float32 linspace(...)**2 then cumprod gives 0.0046600937; torch's linspace differs in the last
        // bit for some betas, so allow a few ulp (sigma_max 14.6146 is checked in the Euler test)
        assertEquals(0.0046600937f, s.alphasCumprod[999], 5e-9f);
        assertEquals(0.99915f, s.alphasCumprod[0], 1e-7f);
    }
}
