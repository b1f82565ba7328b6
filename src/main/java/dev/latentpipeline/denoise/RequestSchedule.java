package dev.latentpipeline.denoise;

import dev.latentpipeline.denoise.scheduler.Scheduler;
import dev.latentpipeline.pipeline.ErrorCode;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.PipelineException;
import java.util.List;

/**
 * Builds a request's schedule on its scheduler: {@code setTimesteps(steps)}, or {@code setTimesteps(steps,
 * strength)} for img2img (LCM derives its img2img schedule from the strength). A schedule the scheduler refuses
 * (LCM beyond its original_inference_steps, trailing step counts that reach timestep -1) is the request's fault.
 */
public final class RequestSchedule {
    private RequestSchedule() {
    }

    public static void set(Scheduler scheduler, GenerationRequest request) {
        try {
            if (request.imageToImage()) {
                scheduler.setTimesteps(request.steps(), request.strength());
            } else {
                scheduler.setTimesteps(request.steps());
            }
        } catch (IllegalArgumentException e) {
            throw new PipelineException(ErrorCode.INVALID_REQUEST, "steps: " + e.getMessage(),
                    List.of(new PipelineException.FieldError("steps", e.getMessage())), e);
        }
    }
}
