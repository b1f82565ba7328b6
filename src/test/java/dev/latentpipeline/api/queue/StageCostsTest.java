package dev.latentpipeline.api.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentpipeline.pipeline.GenerationEvent.StageTiming;
import dev.latentpipeline.pipeline.GenerationRequest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Costs read from completed events' stage records, as the VAE stage writes them. */
class StageCostsTest {
    private static GenerationRequest request(int size, int images, double guidance, int steps) {
        return new GenerationRequest("r", "p", "", size, size, steps, guidance, "euler", 1, images, null);
    }

    private static StageTiming stage(String name, long ms, Integer from, Integer to) {
        return new StageTiming(name, "w", "2026-01-01T00:00:00Z", ms, 0, from, to);
    }

    @Test
    void aJobIsPricedFromCompletedJobsOfItsShape() {
        StageCosts costs = new StageCosts();
        assertTrue(costs.estimate(request(64, 1, 7.5, 20)).isEmpty(), "nothing completed yet");
        // 20 steps in two turns of 10 (a checkpoint hop), 300 ms of UNet: 15 ms a step.
        costs.completed(request(64, 1, 7.5, 20), List.of(stage("text-encoder", 30, null, null),
                stage("unet", 140, 0, 10), stage("unet", 160, 10, 20), stage("vae", 50, null, null)));
        costs.completed(request(64, 1, 7.5, 20), List.of(stage("text-encoder", 10, null, null),
                stage("unet", 100, 0, 20), stage("vae", 70, null, null)));
        costs.completed(request(64, 1, 7.5, 20), List.of(stage("text-encoder", 20, null, null),
                stage("unet", 1000, 0, 20), stage("vae", 60, null, null))); // slowed down: the median ignores it
        StageCosts.Estimate same = costs.estimate(request(64, 1, 7.5, 50)).orElseThrow();
        assertEquals(15, same.unetMsPerStep());
        assertEquals(60, same.vaeMs());
        assertEquals(20, same.textMs());
        assertEquals(10, costs.stepsPerTurn());
    }

    @Test
    void anotherShapeIsScaledByItsWork() {
        StageCosts costs = new StageCosts();
        costs.completed(request(64, 1, 7.5, 10), List.of(stage("unet", 100, 0, 10), stage("vae", 40, null, null)));
        // Twice the side (4x the latent pixels), 2 images, no guidance (half the passes): 4 * 2 / 2 = 4x per step;
        // the VAE works on 4 * 2 = 8x the pixels.
        StageCosts.Estimate scaled = costs.estimate(request(128, 2, 1.0, 10)).orElseThrow();
        assertEquals(40, scaled.unetMsPerStep(), 1e-9);
        assertEquals(320, scaled.vaeMs(), 1e-9);
        assertEquals(0, costs.stepsPerTurn(), "no hop seen: loops run whole");
    }

    @Test
    void onlyTheLastFiftyCompletedJobsCount() {
        StageCosts costs = new StageCosts();
        List<StageTiming> slow = List.of(stage("unet", 1000, 0, 10));
        List<StageTiming> fast = List.of(stage("unet", 10, 0, 10));
        for (int i = 0; i < StageCosts.KEPT; i++) {
            costs.completed(request(64, 1, 7.5, 10), slow);
        }
        List<StageTiming> recent = new ArrayList<>(fast);
        for (int i = 0; i < StageCosts.KEPT / 2 + 1; i++) {
            costs.completed(request(64, 1, 7.5, 10), recent);
        }
        assertEquals(1, costs.estimate(request(64, 1, 7.5, 10)).orElseThrow().unetMsPerStep());
    }

    @Test
    void img2imgRunsPartOfItsSteps() {
        GenerationRequest img2img = new GenerationRequest("r", "p", "", 64, 64, 50, 7.5, "euler", 1, 1, null, null,
                "inputs/cat.png", 0.3);
        assertEquals(15, StageCosts.expectedSteps(img2img));
        assertEquals(50, StageCosts.expectedSteps(request(64, 1, 7.5, 50)));
    }
}
