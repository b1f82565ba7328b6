package dev.latentpipeline.denoise.scheduler;

/**
 * diffusers' EulerAncestralDiscreteScheduler: an Euler step down to sigma_down, then fresh noise of size
 * sigma_up. Draws one noise tensor per step (also on the last, where sigma_up is 0) from the NoiseSource.
 */
public final class EulerAncestralDiscreteScheduler extends SigmaScheduler {
    private final NoiseSource noise;

    public EulerAncestralDiscreteScheduler(SchedulerConfig config, NoiseSource noise) {
        super(config);
        if (config.predictionType().equals("sample")) {
            throw new IllegalArgumentException("prediction_type sample is not supported by euler_a (as in diffusers)");
        }
        this.noise = noise;
    }

    @Override
    protected boolean supportsKarras() {
        return false;
    }

    @Override
    public float[] step(float[] modelOutput, int stepIndex, float[] sample) {
        float sigma = sigmaAt(stepIndex);
        float[] denoised = denoise(modelOutput, sample, sigma);
        float sigmaFrom = sigma;
        float sigmaTo = sigmas[stepIndex + 1];
        float sigmaUp = (float) Math.sqrt(sigmaTo * sigmaTo * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo)
                / (sigmaFrom * sigmaFrom));
        float sigmaDown = (float) Math.sqrt(sigmaTo * sigmaTo - sigmaUp * sigmaUp);
        float dt = sigmaDown - sigma;
        float[] eps = new float[sample.length];
        noise.fillGaussian(eps);
        float[] prev = new float[sample.length];
        for (int i = 0; i < prev.length; i++) {
            float derivative = (sample[i] - denoised[i]) / sigma;
            prev[i] = sample[i] + derivative * dt + eps[i] * sigmaUp;
        }
        return prev;
    }
}
