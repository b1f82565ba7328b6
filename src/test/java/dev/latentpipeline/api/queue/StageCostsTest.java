package dev.latentpipeline.api.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentpipeline.pipeline.GenerationEvent.StageTiming;
import dev.latentpipeline.pipeline.GenerationRequest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Costs read from completed events' stage records, as the stages write them. */
class StageCostsTest {
    private static GenerationRequest request(int size, int images, double guidance, int steps) {
        return new GenerationRequest("r", "p", "", size, size, steps, guidance, "euler", 1, images, null);
    }

    private static StageTiming stage(String name, long ms, Integer from, Integer to) {
        return new StageTiming(name, "w", "2026-01-01T00:00:00Z", ms, 0, from, to);
    }

    /** A UNet segment as the denoising stage records it: microseconds, and the largest call the job was in. */
    private static StageTiming unet(long us, int from, int to, int largestBatch) {
        return new StageTiming("unet", "w", "2026-01-01T00:00:00Z", us / 1000, 0, from, to, us, 0L, 0L, null, null,
                null, largestBatch);
    }

    @Test
    void aJobIsPricedFromCompletedJobsOfItsShape() {
        StageCosts costs = new StageCosts();
        assertTrue(costs.prices().estimate(request(64, 1, 7.5, 20)).isEmpty(), "nothing completed yet");
        // 20 steps in two segments (a hand-on), 300 ms of UNet: 15 ms a step.
        costs.completed(request(64, 1, 7.5, 20), List.of(stage("text-encoder", 30, null, null),
                stage("unet", 140, 0, 10), stage("unet", 160, 10, 20), stage("vae", 50, null, null)));
        costs.completed(request(64, 1, 7.5, 20), List.of(stage("text-encoder", 10, null, null),
                stage("unet", 100, 0, 20), stage("vae", 70, null, null)));
        costs.completed(request(64, 1, 7.5, 20), List.of(stage("text-encoder", 20, null, null),
                stage("unet", 1000, 0, 20), stage("vae", 60, null, null))); // slowed down: the median ignores it
        StageCosts.Estimate same = costs.prices().estimate(request(64, 1, 7.5, 50)).orElseThrow();
        assertEquals(15, same.unetMsPerStep());
        assertEquals(60, same.vaeMs());
        assertEquals(20, same.textMs());
    }

    @Test
    void anotherShapeIsScaledByItsWork() {
        StageCosts costs = new StageCosts();
        costs.completed(request(64, 1, 7.5, 10), List.of(stage("unet", 100, 0, 10), stage("vae", 40, null, null)));
        // Twice the side (4x the latent pixels), 2 images, no guidance (half the passes): 4 * 2 / 2 = 4x per step;
        // the VAE works on 4 * 2 = 8x the pixels.
        StageCosts.Estimate scaled = costs.prices().estimate(request(128, 2, 1.0, 10)).orElseThrow();
        assertEquals(40, scaled.unetMsPerStep(), 1e-9);
        assertEquals(320, scaled.vaeMs(), 1e-9);
    }

    @Test
    void anUnseenShapeIsReadOffTheLineThroughTheShapesSeen() {
        StageCosts costs = new StageCosts();
        // Unguided 64x64 (64 latent pixels): 10 ms a step; 128x128 (256): 16 ms, twice each. The line: 8 ms + 1/32
        // ms per latent pixel; 256x256 (1024) costs 8 + 32 = 40 ms a step, not 160 (in proportion to the 64x64 job).
        for (int i = 0; i < 2; i++) {
            costs.completed(request(64, 1, 1.0, 10), List.of(stage("unet", 100, 0, 10), stage("vae", 20, null, null)));
        }
        costs.completed(request(128, 1, 1.0, 10), List.of(stage("unet", 160, 0, 10), stage("vae", 50, null, null)));
        StageCosts.Estimate unseen = costs.prices().estimate(request(256, 1, 1.0, 10)).orElseThrow();
        assertEquals(40, unseen.unetMsPerStep(), 1e-9);
        // VAE: 20 ms at 4096 pixels, 50 at 16384: 10 ms + 1/409.6 per pixel; 65536 pixels: 170 ms.
        assertEquals(170, unseen.vaeMs(), 1e-9);
    }

    @Test
    void aLineFallingWithWorkGoesThroughTheOriginInstead() {
        StageCosts costs = new StageCosts();
        // The larger job was faster (noise): no negative cost per pixel; through the origin by least squares,
        // (64 * 10 + 256 * 8) / (64^2 + 256^2) ms per latent pixel.
        costs.completed(request(64, 1, 1.0, 10), List.of(stage("unet", 100, 0, 10)));
        costs.completed(request(128, 1, 1.0, 10), List.of(stage("unet", 80, 0, 10)));
        double perUnit = (64 * 10 + 256 * 8) / (64.0 * 64 + 256.0 * 256);
        assertEquals(perUnit * 1024, costs.prices().estimate(request(256, 1, 1.0, 10)).orElseThrow()
                .unetMsPerStep(), 1e-9);
    }

    @Test
    void batchedJobsTellWhatAnExtraJobInACallCosts() {
        StageCosts costs = new StageCosts();
        GenerationRequest r = request(64, 1, 7.5, 10);
        assertEquals(StageCosts.NO_BATCHING_GAIN, costs.prices().batchMarginal(), "nothing seen: no gain assumed");
        // Alone: 10 ms a step. In calls of 5 jobs: 16 ms a step, so each of the 4 extra jobs added 1.5 ms, 0.15 of
        // its cost alone.
        costs.completed(r, List.of(unet(100_000, 0, 10, 1)));
        assertEquals(StageCosts.NO_BATCHING_GAIN, costs.prices().batchMarginal(), "no batched job seen yet");
        costs.completed(r, List.of(unet(160_000, 0, 10, 5)));
        costs.completed(r, List.of(unet(160_000, 0, 10, 5)));
        StageCosts.Prices prices = costs.prices();
        assertEquals(0.15, prices.batchMarginal(), 1e-9);
        // Every sample undone of its batch says 10 ms alone.
        assertEquals(10, prices.estimate(r).orElseThrow().unetMsPerStep(), 1e-9);
    }

    @Test
    void batchingIsNeverPricedBelowFreeOrAboveNoGain() {
        StageCosts costs = new StageCosts();
        GenerationRequest r = request(64, 1, 7.5, 10);
        costs.completed(r, List.of(unet(100_000, 0, 10, 1)));
        costs.completed(r, List.of(unet(50_000, 0, 10, 3))); // faster than alone: another cause, not batching
        assertEquals(0, costs.prices().batchMarginal());
        costs.completed(r, List.of(unet(900_000, 0, 10, 3)));
        costs.completed(r, List.of(unet(900_000, 0, 10, 3))); // 9x alone in calls of 3: slowed by something else
        assertEquals(1, costs.prices().batchMarginal());
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
        assertEquals(1, costs.prices().estimate(request(64, 1, 7.5, 10)).orElseThrow().unetMsPerStep());
    }

    @Test
    void img2imgRunsPartOfItsSteps() {
        GenerationRequest img2img = new GenerationRequest("r", "p", "", 64, 64, 50, 7.5, "euler", 1, 1, null, null,
                "inputs/cat.png", 0.3);
        assertEquals(15, StageCosts.expectedSteps(img2img));
        assertEquals(50, StageCosts.expectedSteps(request(64, 1, 7.5, 50)));
    }
}
