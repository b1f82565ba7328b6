package dev.latentpipeline.messaging;

import java.time.Duration;

/**
 * Which denoising steps of a job report progress (sd.events.progress-every, sd.events.progress-interval): the job's
 * start, every {@code every}-th step but no more often than once per {@code interval}, and always the last step.
 */
record ProgressPolicy(int every, Duration interval) {

    ProgressPolicy {
        every = Math.max(1, every);
    }

    /**
     * @param sinceLastNanos time since this job's last progress event; {@code Long.MAX_VALUE} before its first
     */
    boolean due(int stepsDone, int totalSteps, long sinceLastNanos) {
        if (stepsDone == totalSteps) {
            return true;
        }
        return stepsDone % every == 0 && sinceLastNanos >= interval.toNanos();
    }
}
