package dev.latentpipeline.denoise;

import dev.latentpipeline.tensor.FloatTensor;

/**
 * What a denoising job reports, and asks, as it runs. The messaging side implements it: it owns delivery,
 * progress events, cancellation, checkpoints and hand-overs, so this package needs none of that. Every call comes
 * from the engine's thread between two steps and must not block: sends are asynchronous.
 */
public interface JobControl {

    /** What the loop does after a step (or, with {@code stepsDone} at the job's start, before its first). */
    enum StepAction {
        /** Go on. */
        CONTINUE,
        /** Go on, after handing {@link #checkpoint} the state reached (crash safety on the side). */
        CHECKPOINT,
        /** Stop here and hand the state reached to {@link #checkpoint}: the partition moves, the worker stops. */
        HAND_ON,
        /** Stop: the request was cancelled. */
        CANCEL,
        /** Stop without a word: the work is no longer this worker's (its partition was lost). */
        DROP
    }

    /** Before the first step of this run; {@code stepsDone} is where it starts (a checkpoint's or img2img's). */
    StepAction beforeStart(int stepsDone, int totalSteps);

    /** After each step; {@code stepsDone} counts the steps of the whole schedule done so far. */
    StepAction afterStep(int stepsDone, int totalSteps);

    /** Whether to hand this step's predicted clean latents x0 to {@link #preview} (asked right after each step). */
    default boolean wantsPreview(int stepsDone, int totalSteps) {
        return false;
    }

    /**
     * The scheduler's predicted clean latents x0 [n, 4, h, w] after {@code stepsDone} steps, a copy the callee
     * owns: what the images would be if denoising stopped here.
     */
    default void preview(int stepsDone, int totalSteps, FloatTensor predictedOriginal) {
    }

    /** The loop finished: the final latents and this stage's record. */
    void finished(DenoisingStage.Denoised result);

    /** The state after {@code checkpoint.stepsDone()} steps; {@code stopped}: the job left the engine (HAND_ON). */
    void checkpoint(Checkpoint checkpoint, boolean stopped);

    /** The job stopped after a CANCEL. */
    void cancelled(int stepsDone, int totalSteps);

    /** The job failed (a bad schedule, a model error): it has left the engine. */
    void failed(RuntimeException error);

    /**
     * Preparing the job failed with {@code error} before it joined the engine (its init image or latents could not
     * be read): how long to wait before preparing it again, its room in the engine still reserved, or null to let
     * it fail ({@link #failed} follows). Called on the preparation thread; other jobs are prepared meanwhile.
     */
    default java.time.Duration retryPreparation(RuntimeException error) {
        return null;
    }
}
