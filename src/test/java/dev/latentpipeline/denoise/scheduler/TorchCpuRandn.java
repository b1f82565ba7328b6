package dev.latentpipeline.denoise.scheduler;

/**
 * {@code torch.manual_seed(seed); torch.randn(n)} for a contiguous float32 CPU tensor of at least 16 elements, the
 * noise diffusers' scheduler tests draw: torch's CPU generator is MT19937 seeded like numpy's RandomState (so the
 * raw 32-bit stream is {@link NumpyRandomState#nextUInt32()}), and its normal_fill first fills every element with a
 * uniform {@code (u32 & (2^24 - 1)) / 2^24}, then turns each block of 16 into normals by Box-Muller, element j
 * paired with j + 8: {@code r = sqrt(-2 ln(1 - u_j))}, {@code theta = 2 pi u_(j+8)}, {@code x_j = r cos theta},
 * {@code x_(j+8) = r sin theta}; when n is not a multiple of 16 the last 16 elements are drawn again and redone.
 * torch's AVX2 build evaluates log/sin/cos with its own float approximations, a few ulp from these.
 */
final class TorchCpuRandn implements NoiseSource {
    private final NumpyRandomState engine;

    TorchCpuRandn(long seed) {
        engine = new NumpyRandomState(seed);
    }

    @Override
    public void fillGaussian(float[] out) {
        if (out.length < 16) {
            throw new IllegalArgumentException("torch draws tensors under 16 elements another way");
        }
        for (int i = 0; i < out.length; i++) {
            out[i] = uniform();
        }
        for (int i = 0; i + 16 <= out.length; i += 16) {
            boxMuller16(out, i);
        }
        if (out.length % 16 != 0) {
            int tail = out.length - 16;
            for (int i = tail; i < out.length; i++) {
                out[i] = uniform();
            }
            boxMuller16(out, tail);
        }
    }

    private float uniform() {
        return (engine.nextUInt32() & 0xFFFFFF) * (1.0f / (1 << 24));
    }

    private static void boxMuller16(float[] d, int from) {
        for (int j = from; j < from + 8; j++) {
            float radius = (float) Math.sqrt(-2f * (float) Math.log(1f - d[j]));
            float theta = (float) (2.0 * Math.PI * d[j + 8]);
            d[j] = radius * (float) Math.cos(theta);
            d[j + 8] = radius * (float) Math.sin(theta);
        }
    }
}
