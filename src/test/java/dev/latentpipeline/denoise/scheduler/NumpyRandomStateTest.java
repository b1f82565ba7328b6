package dev.latentpipeline.denoise.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Values printed by numpy 2.4 (legacy RandomState), and the MT19937 reference output. */
class NumpyRandomStateTest {

    @Test
    void seedZeroMatchesNumpy() {
        assertArrayEquals(new double[] {1.764052345967664, 0.4001572083672233, 0.9787379841057392},
                new NumpyRandomState(0).randn(3), 0);
    }

    @Test
    void seed42MatchesNumpy() {
        assertEquals(0.4967141530112327, new NumpyRandomState(42).gauss(), 0);
    }

    @Test
    void largestSeedMatchesNumpy() {
        assertArrayEquals(new double[] {0.6484086742306527, 0.6693235306338161, -1.0805437227474493,
                0.2845010447986309, 0.11388773652167104}, new NumpyRandomState(4294967295L).randn(5), 0);
    }

    @Test
    void longStreamMatchesNumpy() {
        double[] x = new NumpyRandomState(1234).randn(1000);
        assertEquals(-0.8019050477600198, x[999], 0);
        double sum = 0;
        for (double v : x) {
            sum += v;
        }
        assertEquals(15.740582153762029, sum, 1e-12);
    }

    @Test
    void rawAndUniformOutputs() {
        assertEquals(3499211612L, new NumpyRandomState(5489).nextUInt32());
        assertEquals(0.07630828937395717, new NumpyRandomState(7).randomDouble(), 0);
    }

    @Test
    void float32FillMatchesAstype() {
        float[] out = new float[4];
        new NumpyRandomState(2024).fillGaussian(out);
        assertArrayEquals(new float[] {1.6680473f, 0.7373477f, -0.20153776f, -0.15091194f}, out);
    }

    @Test
    void rejectsSeedsNumpyRejects() {
        assertThrows(IllegalArgumentException.class, () -> new NumpyRandomState(-1));
        assertThrows(IllegalArgumentException.class, () -> new NumpyRandomState(1L << 32));
    }
}
