package dev.latentpipeline.pipeline;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.List;

/** One event on sd.events (schemas/generation-event.schema.json). Fields that do not apply are left out. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GenerationEvent(
        @JsonProperty("request_id") String requestId,
        @JsonProperty("type") String type,
        @JsonProperty("time") String time,
        @JsonProperty("worker") String worker,
        @JsonProperty("stage") String stage,
        @JsonProperty("request") GenerationRequest request,
        @JsonProperty("step") Integer step,
        @JsonProperty("total_steps") Integer totalSteps,
        @JsonProperty("bucket") String bucket,
        @JsonProperty("images") List<StoredImage> images,
        @JsonProperty("stages") List<StageTiming> stages,
        @JsonProperty("warnings") List<String> warnings,
        @JsonProperty("error") Error error,
        @JsonProperty("worker_capacity") Integer workerCapacity) {

    public static final String QUEUED = "queued";
    public static final String ACCEPTED = "accepted";
    public static final String ENCODING = "encoding";
    public static final String DENOISING = "denoising";
    public static final String DECODING = "decoding";
    public static final String COMPLETED = "completed";
    public static final String FAILED = "failed";
    public static final String CANCELLED = "cancelled";

    /** completed, failed and cancelled end a request; nothing follows them. */
    public static boolean isTerminal(String type) {
        return COMPLETED.equals(type) || FAILED.equals(type) || CANCELLED.equals(type);
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record StoredImage(
            @JsonProperty("index") int index,
            @JsonProperty("key") String key,
            @JsonProperty("seed") long seed,
            @JsonProperty("width") int width,
            @JsonProperty("height") int height) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record StageTiming(
            @JsonProperty("stage") String stage,
            @JsonProperty("worker") String worker,
            @JsonProperty("started_at") String startedAt,
            @JsonProperty("duration_ms") long durationMs,
            @JsonProperty("onnx_ms") long onnxMs,
            @JsonProperty("from_step") Integer fromStep,
            @JsonProperty("to_step") Integer toStep,
            @JsonProperty("duration_us") Long durationUs,
            @JsonProperty("onnx_us") Long onnxUs,
            @JsonProperty("queued_us") Long queuedUs,
            @JsonProperty("encode_us") Long encodeUs,
            @JsonProperty("png_us") Long pngUs,
            @JsonProperty("storage_us") Long storageUs,
            @JsonProperty("largest_batch") Integer largestBatch) {

        /** A record with only the millisecond figures (what events before the microsecond fields carried). */
        public StageTiming(String stage, String worker, String startedAt, long durationMs, long onnxMs,
                Integer fromStep, Integer toStep) {
            this(stage, worker, startedAt, durationMs, onnxMs, fromStep, toStep, null, null, null, null, null, null,
                    null);
        }
    }

    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record Error(
            @JsonProperty("code") String code,
            @JsonProperty("message") String message,
            @JsonProperty("fields") List<PipelineException.FieldError> fields) {
    }

    private static GenerationEvent of(String requestId, String type, String worker, String stage) {
        return new GenerationEvent(requestId, type, Instant.now().toString(), worker, stage, null, null, null, null,
                null, null, null, null, null);
    }

    public static GenerationEvent accepted(GenerationRequest request, String worker) {
        GenerationEvent e = of(request.id(), ACCEPTED, worker, Stages.TEXT_ENCODER);
        return new GenerationEvent(e.requestId, e.type, e.time, e.worker, e.stage, request, null, null, null, null,
                null, null, null, null);
    }

    /** The gateway took the request over HTTP and published it to sd.requests. */
    public static GenerationEvent queued(GenerationRequest request, String worker) {
        GenerationEvent e = of(request.id(), QUEUED, worker, Stages.GATEWAY);
        return new GenerationEvent(e.requestId, e.type, e.time, e.worker, e.stage, request, null, null, null, null,
                null, null, null, null);
    }

    /** A stage stopped or skipped a cancelled request; step/total_steps say how far denoising got, when it ran. */
    public static GenerationEvent cancelled(String requestId, String worker, String stage, Integer step,
            Integer totalSteps) {
        GenerationEvent e = of(requestId, CANCELLED, worker, stage);
        return new GenerationEvent(e.requestId, e.type, e.time, e.worker, e.stage, null, step, totalSteps, null,
                null, null, null, null, null);
    }

    public static GenerationEvent stageStarted(String requestId, String type, String worker, String stage) {
        return of(requestId, type, worker, stage);
    }

    /** @param workerCapacity how many jobs the UNet worker runs at once (sd.unet.max-batch): its lines' width */
    public static GenerationEvent progress(String requestId, String worker, int step, int totalSteps,
            int workerCapacity) {
        GenerationEvent e = of(requestId, DENOISING, worker, Stages.UNET);
        return new GenerationEvent(e.requestId, e.type, e.time, e.worker, e.stage, null, step, totalSteps, null,
                null, null, null, null, workerCapacity);
    }

    public static GenerationEvent completed(String requestId, String worker, String bucket, List<StoredImage> images,
            List<StageTiming> stages, List<String> warnings) {
        GenerationEvent e = of(requestId, COMPLETED, worker, Stages.VAE);
        return new GenerationEvent(e.requestId, e.type, e.time, e.worker, e.stage, null, null, null, bucket,
                images, stages, warnings.isEmpty() ? null : warnings, null, null);
    }

    public static GenerationEvent failed(String requestId, String worker, String stage, PipelineException error) {
        GenerationEvent e = of(requestId, FAILED, worker, stage);
        return new GenerationEvent(e.requestId, e.type, e.time, e.worker, e.stage, null, null, null, null, null,
                null, null, new Error(error.code().wireName(), error.getMessage(), error.fields()), null);
    }
}
