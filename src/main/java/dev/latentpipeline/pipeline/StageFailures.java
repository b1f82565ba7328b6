package dev.latentpipeline.pipeline;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/**
 * How a stage answers a request it cannot finish: a cancelled event, or a failed event with the error's stable code.
 * Unexpected exceptions become model errors; they and storage errors are logged here, once, with their stack.
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
    public void handle(String stage, String requestId, String work, RuntimeException e) {
        if (e instanceof JobCancelledException cancelled) {
            cancelled(stage, requestId, cancelled.step(), cancelled.totalSteps());
            return;
        }
        PipelineException failure = e instanceof PipelineException known ? known
                : new PipelineException(ErrorCode.MODEL_ERROR, work + " failed: " + e.getMessage(), e);
        if (failure != e || failure.code() == ErrorCode.STORAGE_ERROR) {
            LOG.errorf(e, "%s failed for %s", work, requestId);
        }
        fail(stage, requestId, failure);
    }

    /** A failed event; a message whose request is unknown cannot have one and is skipped. */
    public void fail(String stage, String requestId, PipelineException e) {
        if (requestId == null) {
            LOG.warnf("Skipped an unreadable stage message without a key: %s", e.getMessage());
            return;
        }
        events.publish(GenerationEvent.failed(requestId, worker.id(), stage, e));
    }

    /** A cancelled event; step and totalSteps say where denoising stopped, null before it started. */
    public void cancelled(String stage, String requestId, Integer step, Integer totalSteps) {
        events.publish(GenerationEvent.cancelled(requestId, worker.id(), stage, step, totalSteps));
    }
}
