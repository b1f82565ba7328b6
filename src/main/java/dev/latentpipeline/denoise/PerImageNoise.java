package dev.latentpipeline.denoise;

import dev.latentpipeline.denoise.scheduler.NoiseSource;
import dev.latentpipeline.denoise.scheduler.NumpyRandomState;
import dev.latentpipeline.tensor.FloatTensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Gaussian noise for a batch of images where image k draws from its own generator, numpy's RandomState(seed_k):
 * image k's initial latents (and any noise its sampler adds later) do not depend on the other images, so it can
 * be reproduced alone, and with one image it matches diffusers' ONNX pipeline's RandomState(seed).randn(...).
 */
public final class PerImageNoise implements NoiseSource {
    private final NumpyRandomState[] generators;

    public PerImageNoise(long[] seeds) {
        generators = new NumpyRandomState[seeds.length];
        for (int k = 0; k < seeds.length; k++) {
            generators[k] = new NumpyRandomState(seeds[k]);
        }
    }

    @Override
    public void fillGaussian(float[] out) {
        if (out.length % generators.length != 0) {
            throw new IllegalArgumentException(out.length + " values cannot be split over " + generators.length
                    + " images");
        }
        int perImage = out.length / generators.length;
        float[] part = new float[perImage];
        for (int k = 0; k < generators.length; k++) {
            generators[k].fillGaussian(part);
            System.arraycopy(part, 0, out, k * perImage, perImage);
        }
    }

    /** Each image's generator state, in image order: a checkpoint carries these so resumed noise matches. */
    public List<NumpyRandomState.State> states() {
        List<NumpyRandomState.State> out = new ArrayList<>();
        for (NumpyRandomState g : generators) {
            out.add(g.state());
        }
        return out;
    }

    /** Generators continuing from {@link #states()}. */
    public static PerImageNoise fromStates(List<NumpyRandomState.State> states) {
        return new PerImageNoise(states.stream().map(NumpyRandomState::fromState).toArray(NumpyRandomState[]::new));
    }

    private PerImageNoise(NumpyRandomState[] generators) {
        this.generators = generators;
    }

    /** Unit-variance initial latents of the given shape [images, channels, h, w]. */
    public FloatTensor initialLatents(long[] shape) {
        FloatTensor noise = FloatTensor.zeros(shape);
        fillGaussian(noise.data());
        return noise;
    }
}
