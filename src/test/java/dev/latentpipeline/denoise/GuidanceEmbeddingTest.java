package dev.latentpipeline.denoise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * diffusers' get_guidance_scale_embedding by hand. Guidance 7.5 gives w = 6.5 and angles 1000 w f_i = 6500 f_i,
 * f_i = exp(-i ln(10000) / (half - 1)):
 * <ul>
 *   <li>dim 4 (half 2): f = 1, exp(-ln 10000) = 1e-4, angles 6500 and 0.65;</li>
 *   <li>dim 6 (half 3): f = 1, exp(-ln(10000) / 2) = 0.01, 1e-4, angles 6500, 65, 0.65.</li>
 * </ul>
 * 6500 = 1034 * 2 pi + 3.186392 (6500 / 2 pi = 1034.50713), so sin 6500 = -sin(3.186392 - pi) = -sin(0.0447997)
 * = -0.0447847 and cos 6500 = -cos(0.0447997) = -0.9989967; 65 = 10 * 2 pi + 2.168147, sin 65 = 0.8268287,
 * cos 65 = -0.5624539; sin 0.65 = 0.6051864, cos 0.65 = 0.7960838. The embedding is all sines, then all cosines.
 */
class GuidanceEmbeddingTest {
    private static final double SIN_6500 = -0.0447847;
    private static final double COS_6500 = -0.9989967;
    private static final double SIN_65 = 0.8268287;
    private static final double COS_65 = -0.5624539;
    private static final double SIN_065 = 0.6051864;
    private static final double COS_065 = 0.7960838;
    /** float32 arithmetic (the frequencies, 6500 * 1e-4) moves these by a few 1e-6. */
    private static final float TOLERANCE = 1e-5f;

    private static float[] floats(double... values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }

    @Test
    void fourDimensionsAreTheSinesThenTheCosines() {
        assertArrayEquals(floats(SIN_6500, SIN_065, COS_6500, COS_065), GuidanceEmbedding.of(6.5, 4), TOLERANCE);
    }

    @Test
    void anOddDimensionEndsWithAZeroPad() {
        float[] five = GuidanceEmbedding.of(6.5, 5);
        assertArrayEquals(floats(SIN_6500, SIN_065, COS_6500, COS_065, 0), five, TOLERANCE);
        assertEquals(0f, five[4], 0f);
    }

    @Test
    void frequenciesSpreadOverHalfMinusOneIntervals() {
        assertArrayEquals(floats(SIN_6500, SIN_65, SIN_065, COS_6500, COS_65, COS_065), GuidanceEmbedding.of(6.5, 6),
                TOLERANCE);
    }

    @Test
    void thePipelinesGuidanceScaleIsOneMoreThanW() {
        assertArrayEquals(GuidanceEmbedding.of(6.5, 256), GuidanceEmbedding.forGuidanceScale(7.5, 256));
        // guidance 1 (none): w = 0, every angle 0: sines 0, cosines 1
        assertArrayEquals(floats(0, 0, 1, 1), GuidanceEmbedding.forGuidanceScale(1.0, 4), 0f);
        assertEquals(256, GuidanceEmbedding.forGuidanceScale(8.5, 256).length);
    }

    @Test
    void dimensionsBelowFourAreRefused() {
        // half - 1 = 0 for dims 2 and 3: diffusers divides by zero and returns NaN
        assertThrows(IllegalArgumentException.class, () -> GuidanceEmbedding.of(6.5, 3));
    }
}
