package dev.latentpipeline.api.status;

import dev.latentpipeline.pipeline.GenerationEvent;
import dev.latentpipeline.pipeline.GenerationRequest;
import java.util.List;
import java.util.Map;

/**
 * A job's state as folded from its events on sd.events. Immutable: the store swaps in a new one per event.
 *
 * @param createdAt time of the job's first event (queued, or accepted for requests sent straight to Kafka)
 * @param worker the worker that produced the latest event (during denoising: the UNet worker running it)
 * @param workerCapacity while denoising: how many jobs that UNet worker runs at once (its events' worker_capacity)
 */
public record JobStatus(
        String id,
        String status,
        String stage,
        String createdAt,
        String updatedAt,
        String worker,
        GenerationRequest request,
        Integer step,
        Integer totalSteps,
        String bucket,
        List<GenerationEvent.StoredImage> images,
        List<GenerationEvent.StageTiming> stages,
        List<String> warnings,
        GenerationEvent.Error error,
        Integer workerCapacity) {

    /** Order of the states: an event never moves a job backwards (a redelivered stage message repeats events). */
    private static final Map<String, Integer> RANK = Map.of(
            GenerationEvent.QUEUED, 0, GenerationEvent.ACCEPTED, 1, GenerationEvent.ENCODING, 2,
            GenerationEvent.DENOISING, 3, GenerationEvent.DECODING, 4, GenerationEvent.COMPLETED, 5,
            GenerationEvent.FAILED, 5, GenerationEvent.CANCELLED, 5);

    /** A key for a place in the newest-first order, as list cursors carry it. */
    public static JobStatus cursor(String id, String createdAt) {
        return new JobStatus(id, null, null, createdAt, null, null, null, null, null, null, null, null, null, null,
                null);
    }

    public boolean terminal() {
        return GenerationEvent.isTerminal(status);
    }

    /** This job after {@code event}; {@code previous} is null for the job's first event. */
    public static JobStatus fold(JobStatus previous, GenerationEvent event) {
        Integer rank = RANK.get(event.type());
        if (rank == null) {
            return previous; // a type this gateway does not know yet
        }
        if (previous == null) {
            return new JobStatus(event.requestId(), event.type(), event.stage(), event.time(), event.time(),
                    event.worker(), event.request(), event.step(), event.totalSteps(), event.bucket(), event.images(),
                    event.stages(), event.warnings(), event.error(), event.workerCapacity());
        }
        if (previous.terminal() || rank < RANK.get(previous.status())) {
            return previous;
        }
        GenerationRequest request = event.request() != null ? event.request() : previous.request;
        Integer step = event.step() != null ? event.step() : previous.step;
        if (GenerationEvent.DENOISING.equals(event.type()) && previous.step != null && step != null
                && step < previous.step) {
            // A loop resumed from an earlier checkpoint after its worker died repeats steps: progress shown to
            // users never goes backwards.
            step = previous.step;
        }
        Integer total = event.totalSteps() != null ? event.totalSteps() : previous.totalSteps;
        // Only denoising events name a capacity; a later stage's worker has none.
        Integer capacity = event.workerCapacity() != null ? event.workerCapacity()
                : GenerationEvent.DENOISING.equals(event.type()) ? previous.workerCapacity : null;
        return new JobStatus(previous.id, event.type(), event.stage() != null ? event.stage() : previous.stage,
                previous.createdAt, event.time(), event.worker(), request, step, total, event.bucket(), event.images(),
                event.stages(), event.warnings(), event.error(), capacity);
    }
}
