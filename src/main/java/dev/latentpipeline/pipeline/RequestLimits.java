package dev.latentpipeline.pipeline;

/** Deployment bounds on a request (sd.limits.*), tighter than the schema's absolute ones. */
public record RequestLimits(int maxWidth, int maxHeight, int maxSteps, int maxImages) {
    public static RequestLimits from(PipelineConfig.Limits limits) {
        return new RequestLimits(limits.maxWidth(), limits.maxHeight(), limits.maxSteps(), limits.maxImages());
    }
}
