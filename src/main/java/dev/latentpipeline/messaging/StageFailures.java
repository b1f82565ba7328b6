package dev.latentpipeline.messaging;

import dev.latentpipeline.pipeline.ErrorCode;
import dev.latentpipeline.pipeline.GenerationEvent;
import dev.latentpipeline.pipeline.JobCancelledException;
import dev.latentpipeline.pipeline.PipelineException;
import dev.latentpipeline.pipeline.WorkerIdentity;
import dev.latentpipeline.tensor.NonFiniteTensorException;
import io.opentelemetry.context.Context;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.concurrent.CompletableFuture;
import org.jboss.logging.Logger;

/**
 * How a stage answers a request it cannot finish: a cancelled event, or a failed event with the error's stable code.
 * Unexpected exceptions become model errors; they and storage errors are logged here, once, with their stack. Each
 * answer's future completes once the event is on the broker: only then is the message that caused it committed.
 */
@ApplicationScoped
public class StageFailures {
    private static final Logger LOG = Logger.getLogger(StageFailures.class);

    @Inject
    EventPublisher events;
    @Inject
    WorkerIdentity worker;

    /**
     * Answers what a stage threw while working on a request.
     *
     * @param requestId null when the message could not be read far enough to name its request
     * @param work what the stage was doing, for the log and the failed event ("denoising")
     */
    public CompletableFuture<Void> handle(Context trace, String stage, String requestId, String work,
            RuntimeException e) {
        if (e instanceof JobCancelledException cancelled) {
            return cancelled(trace, stage, requestId, cancelled.step(), cancelled.totalSteps());
        }
        PipelineException failure = e instanceof PipelineException known ? known
                : e instanceof NonFiniteTensorException nonFinite
                        ? new PipelineException(ErrorCode.MODEL_ERROR, work + " refused: " + nonFinite.getMessage(),
                                nonFinite)
                        : new PipelineException(ErrorCode.MODEL_ERROR, work + " failed: " + e.getMessage(), e);
        if (failure != e || failure.code() == ErrorCode.STORAGE_ERROR) {
            LOG.errorf(e, "%s failed for %s", work, requestId);
        }
        return fail(trace, stage, requestId, failure);
    }

    /** A failed event; a message whose request is unknown cannot have one and is skipped. */
    public CompletableFuture<Void> fail(Context trace, String stage, String requestId, PipelineException e) {
        if (requestId == null) {
            LOG.warnf("Skipped an unreadable stage message without a key: %s", e.getMessage());
            return CompletableFuture.completedFuture(null);
        }
        return events.send(trace, GenerationEvent.failed(requestId, worker.id(), stage, e));
    }

    /** A cancelled event; step and totalSteps say where denoising stopped, null before it started. */
    public CompletableFuture<Void> cancelled(Context trace, String stage, String requestId, Integer step,
            Integer totalSteps) {
        return events.send(trace, GenerationEvent.cancelled(requestId, worker.id(), stage, step, totalSteps));
    }
}
