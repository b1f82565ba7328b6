package dev.latentpipeline.pipeline;

/** Thrown inside a stage when its request was cancelled; the stage answers with a cancelled event. */
public class JobCancelledException extends RuntimeException {
    private final Integer step;
    private final Integer totalSteps;

    public JobCancelledException(Integer step, Integer totalSteps) {
        super("cancelled", null, false, false);
        this.step = step;
        this.totalSteps = totalSteps;
    }

    public Integer step() {
        return step;
    }

    public Integer totalSteps() {
        return totalSteps;
    }
}
