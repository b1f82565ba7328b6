package dev.latentpipeline.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.latentpipeline.pipeline.GenerationEvent;
import dev.latentpipeline.pipeline.GenerationRequest;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A job as the HTTP API shows it (GET /v1/generations/{id}, list entries, SSE data, webhook data). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GenerationView(
        @JsonProperty("id") String id,
        @JsonProperty("status") String status,
        @JsonProperty("stage") String stage,
        @JsonProperty("created_at") String createdAt,
        @JsonProperty("updated_at") String updatedAt,
        @JsonProperty("progress") Progress progress,
        @Schema(description = "While the job waits (queued, accepted, encoding): jobs ahead of it in its UNet "
                + "worker's line, those running there and those that start before it; absent once it runs "
                + "(docs/queue.md)")
        @JsonProperty("queue_position") Integer queuePosition,
        @Schema(description = "While the job waits: how many jobs its UNet worker runs at once (sd.unet.max-batch)")
        @JsonProperty("worker_capacity") Integer workerCapacity,
        @Schema(description = "While the job waits, once any job has completed: when it should start denoising and "
                + "end, from recent stage timings (docs/queue.md)")
        @JsonProperty("eta") Eta eta,
        @JsonProperty("parameters") GenerationRequest parameters,
        @JsonProperty("images") List<Image> images,
        @JsonProperty("timings") List<GenerationEvent.StageTiming> timings,
        @JsonProperty("warnings") List<String> warnings,
        @JsonProperty("error") GenerationEvent.Error error,
        @JsonProperty("links") Links links) {

    /** While the job waits: when it is expected to start denoising and to end (docs/queue.md). */
    public record Eta(@JsonProperty("starts_at") String startsAt, @JsonProperty("ends_at") String endsAt) {
    }

    public record Progress(@JsonProperty("step") int step, @JsonProperty("total_steps") int totalSteps) {
    }

    /** url is presigned and valid until expires_at; the gateway's own image URL does not expire. */
    public record Image(
            @JsonProperty("index") int index,
            @JsonProperty("seed") long seed,
            @JsonProperty("width") int width,
            @JsonProperty("height") int height,
            @JsonProperty("url") String url,
            @JsonProperty("expires_at") String expiresAt,
            @JsonProperty("href") String href) {
    }

    public record Links(@JsonProperty("self") String self, @JsonProperty("events") String events) {
    }
}
