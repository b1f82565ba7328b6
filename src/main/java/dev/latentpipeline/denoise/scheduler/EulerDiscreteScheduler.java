package dev.latentpipeline.denoise.scheduler;

/**
 * diffusers' EulerDiscreteScheduler (Karras et al. Algorithm 2, without churn): deterministic first-order
 * steps in sigma space. Honours use_karras_sigmas (with sigma_min/sigma_max overrides) and final_sigmas_type.
 */
public final class EulerDiscreteScheduler extends SigmaScheduler {

    public EulerDiscreteScheduler(SchedulerConfig config) {
        super(config);
    }

    @Override
    protected boolean supportsKarras() {
        return true;
    }

    @Override
    protected double karrasSigmaMin(double fromSchedule) {
        return config.sigmaMin() != null ? config.sigmaMin() : fromSchedule;
    }

    @Override
    protected double karrasSigmaMax(double fromSchedule) {
        return config.sigmaMax() != null ? config.sigmaMax() : fromSchedule;
    }

    @Override
    protected double finalSigma() {
        String type = config.finalSigmasType() != null ? config.finalSigmasType() : "zero";
        return switch (type) {
            case "zero" -> 0.0;
            // diffusers: sqrt((1 - alphas_cumprod[0]) / alphas_cumprod[0]) in float32
            case "sigma_min" -> schedule.sigmas()[0];
            default -> throw new IllegalArgumentException("unsupported final_sigmas_type " + type);
        };
    }

    @Override
    public float[] step(float[] modelOutput, int stepIndex, float[] sample) {
        float sigma = sigmaAt(stepIndex);
        float[] denoised = denoise(modelOutput, sample, sigma);
        float dt = sigmas[stepIndex + 1] - sigma;
        float[] prev = new float[sample.length];
        for (int i = 0; i < prev.length; i++) {
            float derivative = (sample[i] - denoised[i]) / sigma;
            prev[i] = sample[i] + derivative * dt;
        }
        return prev;
    }
}
