package dev.latentpipeline.denoise.scheduler;

/**
 * Bit-exact re-implementation of numpy's legacy {@code np.random.RandomState(seed).randn(...)}: MT19937
 * seeded with {@code init_genrand}, 53-bit doubles from two 32-bit draws, and the polar Box-Muller
 * {@code legacy_gauss} that caches its second value. diffusers' ONNX pipelines draw their initial latents with
 * {@code np.random.RandomState(seed).randn(*shape).astype(np.float32)}, so this reproduces them from the seed.
 * Not thread-safe.
 */
public final class NumpyRandomState implements NoiseSource {
    private static final int N = 624;
    private static final int M = 397;

    private final int[] mt = new int[N];
    private int pos;
    private boolean hasGauss;
    private double cachedGauss;

    /** @param seed an integer seed in [0, 2^32 - 1], as numpy accepts */
    public NumpyRandomState(long seed) {
        if (seed < 0 || seed > 0xFFFFFFFFL) {
            throw new IllegalArgumentException("seed must be between 0 and 2**32 - 1, got " + seed);
        }
        mt[0] = (int) seed;
        for (int i = 1; i < N; i++) {
            mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        }
        pos = N;
    }

    /** The generator's full state (numpy's get_state(): key, pos, has_gauss, cached_gaussian). */
    public record State(int[] key, int pos, boolean hasGauss, double cachedGauss) {
        public State {
            if (key.length != N || pos < 0 || pos > N) {
                throw new IllegalArgumentException("not an MT19937 state: " + key.length + " words, pos " + pos);
            }
            key = key.clone();
        }

        @Override
        public int[] key() {
            return key.clone();
        }
    }

    private NumpyRandomState() {
    }

    public State state() {
        return new State(mt, pos, hasGauss, cachedGauss);
    }

    /** A generator that continues from {@code state} exactly as the one it was taken from. */
    public static NumpyRandomState fromState(State state) {
        NumpyRandomState r = new NumpyRandomState();
        System.arraycopy(state.key(), 0, r.mt, 0, N);
        r.pos = state.pos();
        r.hasGauss = state.hasGauss();
        r.cachedGauss = state.cachedGauss();
        return r;
    }

    /** The next raw 32-bit output, as an unsigned value. */
    public long nextUInt32() {
        if (pos >= N) {
            twist();
        }
        int y = mt[pos++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y & 0xFFFFFFFFL;
    }

    private void twist() {
        for (int i = 0; i < N; i++) {
            int y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
            int next = mt[(i + M) % N] ^ (y >>> 1);
            mt[i] = (y & 1) != 0 ? next ^ 0x9908b0df : next;
        }
        pos = 0;
    }

    /** numpy's {@code random_sample()}: uniform in [0, 1) with 53 random bits. */
    public double randomDouble() {
        long a = nextUInt32() >>> 5;
        long b = nextUInt32() >>> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    /** numpy's {@code randn()}: one standard normal draw (legacy polar method). */
    public double gauss() {
        if (hasGauss) {
            hasGauss = false;
            return cachedGauss;
        }
        double x1;
        double x2;
        double r2;
        do {
            x1 = 2.0 * randomDouble() - 1.0;
            x2 = 2.0 * randomDouble() - 1.0;
            r2 = x1 * x1 + x2 * x2;
        } while (r2 >= 1.0 || r2 == 0.0);
        double f = Math.sqrt(-2.0 * Math.log(r2) / r2);
        cachedGauss = f * x1;
        hasGauss = true;
        return f * x2;
    }

    /** {@code randn(n)} in float64. */
    public double[] randn(int n) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = gauss();
        }
        return out;
    }

    /** {@code randn(n).astype(np.float32)}, filled in C order. */
    @Override
    public void fillGaussian(float[] out) {
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) gauss();
        }
    }
}
