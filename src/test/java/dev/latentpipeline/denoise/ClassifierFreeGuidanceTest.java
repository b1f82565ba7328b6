package dev.latentpipeline.denoise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.latentpipeline.tensor.FloatTensor;
import org.junit.jupiter.api.Test;

class ClassifierFreeGuidanceTest {

    @Test
    void combinesUncondAndCondHalvesPerImage() {
        // Two images, two values each: uncond = [0, 1 | 2, 3], cond = [1, 1 | 4, 0].
        FloatTensor batch = new FloatTensor(new long[] {4, 2}, new float[] {0, 1, 2, 3, 1, 1, 4, 0});
        FloatTensor guided = ClassifierFreeGuidance.combine(batch, 7.5f);
        assertArrayEquals(new long[] {2, 2}, guided.shape());
        assertArrayEquals(new float[] {7.5f, 1f, 17f, -19.5f}, guided.data(), 1e-6f);
    }

    @Test
    void scaleOneGivesTheConditionalPrediction() {
        FloatTensor batch = new FloatTensor(new long[] {2, 3}, new float[] {5, 5, 5, 1, 2, 3});
        assertArrayEquals(new float[] {1, 2, 3}, ClassifierFreeGuidance.combine(batch, 1f).data());
    }

    @Test
    void oddBatchIsRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> ClassifierFreeGuidance.combine(FloatTensor.zeros(3, 2), 2f));
    }
}
