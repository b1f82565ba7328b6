package dev.latentpipeline.denoise.scheduler;

/** Source of standard normal noise, given to stochastic schedulers so runs are reproducible from a seed. */
@FunctionalInterface
public interface NoiseSource {
    /** Fills {@code out} with independent N(0, 1) draws, in order. */
    void fillGaussian(float[] out);

    /** For deterministic schedulers: fails loudly if anything ever asks it for noise. */
    NoiseSource NONE = out -> {
        throw new IllegalStateException("this scheduler configuration needs a NoiseSource");
    };
}
