package dev.latentpipeline.messaging;

import java.util.Locale;

/**
 * When a UNet worker stops its loop and hands the request on as a checkpoint (sd.unet.checkpoint-every): every
 * {@code K} steps of a segment, or never. The hop goes to the back of the request's partition, so a long job
 * yields to the jobs queued behind it, and a worker that dies loses at most K steps of that job.
 */
public record CheckpointPolicy(int every) {
    public static final CheckpointPolicy NEVER = new CheckpointPolicy(0);

    public CheckpointPolicy {
        if (every < 0) {
            throw new IllegalArgumentException("sd.unet.checkpoint-every must be a positive step count or never, got "
                    + every);
        }
    }

    /** "never", "0", or a positive step count. */
    public static CheckpointPolicy parse(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("never")) {
            return NEVER;
        }
        try {
            return new CheckpointPolicy(Integer.parseInt(v));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("sd.unet.checkpoint-every must be a positive step count or never, not '"
                    + value + "'", e);
        }
    }

    public boolean enabled() {
        return every > 0;
    }

    /** Whether to stop after {@code stepsDone} steps in a segment that began at {@code fromStep}. */
    public boolean due(int fromStep, int stepsDone, int totalSteps) {
        return enabled() && stepsDone < totalSteps && stepsDone - fromStep >= every;
    }
}
