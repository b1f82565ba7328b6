package dev.latentpipeline.denoise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentpipeline.denoise.scheduler.NumpyRandomState;
import dev.latentpipeline.denoise.scheduler.SchedulerState;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.wire.DenoiseCheckpoint;
import org.junit.jupiter.api.Test;

class CheckpointTest {

    @Test
    void survivesTheWireExactly() throws Exception {
        PerImageNoise noise = new PerImageNoise(new long[] {7, 8});
        FloatTensor latents = noise.initialLatents(new long[] {2, 4, 3, 5});
        SchedulerState state = new SchedulerState.Builder().number("counter", 3).array("ets.0", new float[] {1.5f, -0f,
                Float.MIN_VALUE}).array("absent", null).build();
        Checkpoint original = new Checkpoint(6, latents, state, noise.states(), "unet-1");

        byte[] bytes = original.toProto().toByteArray();
        Checkpoint back = Checkpoint.fromProto(DenoiseCheckpoint.parseFrom(bytes));

        assertEquals(6, back.stepsDone());
        assertEquals("unet-1", back.worker());
        assertArrayEquals(latents.shape(), back.latents().shape());
        assertArrayEquals(latents.data(), back.latents().data());
        assertEquals(3, back.scheduler().number("counter", -1));
        assertArrayEquals(new float[] {1.5f, -0f, Float.MIN_VALUE}, back.scheduler().array("ets.0"));
        assertNull(back.scheduler().array("absent"));
        // The restored generators continue the same streams.
        float[] expected = new float[40];
        noise.fillGaussian(expected);
        float[] got = new float[40];
        PerImageNoise.fromStates(back.noise()).fillGaussian(got);
        assertArrayEquals(expected, got);
    }

    @Test
    void aRestoredGeneratorContinuesMidGaussianPair() {
        NumpyRandomState r = new NumpyRandomState(3);
        r.gauss(); // leaves the second value of the polar pair cached
        NumpyRandomState copy = NumpyRandomState.fromState(r.state());
        assertArrayEquals(r.randn(1000), copy.randn(1000));
    }
}
