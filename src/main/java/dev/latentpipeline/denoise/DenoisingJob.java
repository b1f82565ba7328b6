package dev.latentpipeline.denoise;

import dev.latentpipeline.denoise.scheduler.Scheduler;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Tensors;
import dev.latentpipeline.wire.StageRecord;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One request's denoising loop, as the engine runs it one step at a time: its own scheduler (and history), noise
 * generators, latents and text conditioning. The rows it adds to a UNet call are laid out [uncond x n, cond x n]
 * with guidance, [cond x n] without, n being the request's images.
 */
final class DenoisingJob {
    final String requestId;
    final JobControl control;
    private final Scheduler scheduler;
    private final PerImageNoise noise;
    private final long[] shape;
    private final boolean guided;
    private final float guidanceScale;
    /** Per-row UNet inputs besides sample and timestep, keyed by input name; constant over the loop. */
    private final Map<String, FloatTensor> conditioning;
    private final Function<RuntimeException, RuntimeException> explainFailure;
    private final Consumer<DenoisingJob> onFinished;
    private final Function<DenoisingJob, List<StageRecord>> segments;
    private final String batchKey;
    private float[] latents;
    private int stepsDone;
    final int fromStep;
    long onnxNanos;
    /** The most jobs this one shared a UNet call with (itself included). */
    int largestBatch = 1;

    /**
     * @param noise the images' generators, whose state a checkpoint carries (null: the caller keeps no checkpoints)
     * @param start where the loop starts; the scheduler must be positioned there (fresh, or restored)
     * @param onFinished hands the finished job on (the stage builds its sd.latents message from it)
     * @param segments the loop's stage records up to the job's current step (earlier segments included)
     * @param explainFailure turns an exception of this job into the one to report (e.g. a clear schedule error)
     */
    DenoisingJob(String requestId, JobControl control, Scheduler scheduler, PerImageNoise noise, StartLatents start,
            boolean guided, float guidanceScale, Map<String, FloatTensor> conditioning,
            Function<RuntimeException, RuntimeException> explainFailure, Consumer<DenoisingJob> onFinished,
            Function<DenoisingJob, List<StageRecord>> segments) {
        this.requestId = requestId;
        this.control = control;
        this.scheduler = scheduler;
        this.noise = noise;
        this.shape = start.latents().shape();
        this.latents = start.latents().data();
        this.stepsDone = start.index();
        this.fromStep = start.index();
        this.guided = guided;
        this.guidanceScale = guidanceScale;
        this.conditioning = conditioning;
        this.explainFailure = explainFailure;
        this.onFinished = onFinished;
        this.segments = segments;
        this.batchKey = batchKey(shape, conditioning);
        int rows = rows();
        conditioning.forEach((name, tensor) -> {
            if (tensor.dim(0) != rows) {
                throw new IllegalArgumentException(name + " " + tensor + " must have " + rows + " rows");
            }
        });
    }

    /** Jobs with equal keys can share a UNet call: same latent size and conditioning shapes. */
    private static String batchKey(long[] shape, Map<String, FloatTensor> conditioning) {
        StringBuilder key = new StringBuilder(Arrays.toString(Arrays.copyOfRange(shape, 1, shape.length)));
        new TreeMap<>(conditioning).forEach((name, t) -> {
            long[] s = t.shape();
            key.append('|').append(name).append(Arrays.toString(Arrays.copyOfRange(s, 1, s.length)));
        });
        return key.toString();
    }

    String batchKey() {
        return batchKey;
    }

    int images() {
        return Math.toIntExact(shape[0]);
    }

    /** Rows this job adds to a UNet call. */
    int rows() {
        return guided ? 2 * images() : images();
    }

    int stepsDone() {
        return stepsDone;
    }

    int totalSteps() {
        return scheduler.timesteps().length;
    }

    boolean finished() {
        return stepsDone >= totalSteps();
    }

    float timestep() {
        return (float) scheduler.timesteps()[stepsDone];
    }

    FloatTensor conditioning(String input) {
        return conditioning.get(input);
    }

    Iterable<String> conditioningInputs() {
        return conditioning.keySet();
    }

    /** This step's sample rows: the scheduler-scaled latents, twice with guidance (unconditional, conditional). */
    FloatTensor modelInput() {
        FloatTensor scaled = new FloatTensor(shape, scheduler.scaleModelInput(latents, stepsDone));
        return guided ? Tensors.concat(scaled, scaled) : scaled;
    }

    /** Applies this job's rows of the UNet's prediction: guidance, then one scheduler step. */
    void step(FloatTensor rows) {
        FloatTensor prediction = guided ? ClassifierFreeGuidance.combine(rows, guidanceScale) : rows;
        latents = scheduler.step(prediction.data(), stepsDone, latents);
        stepsDone++;
    }

    /** The scheduler's predicted clean latents of its last step, a copy. */
    FloatTensor predictedOriginal() {
        return new FloatTensor(shape, scheduler.predictedOriginal());
    }

    FloatTensor latents() {
        return new FloatTensor(shape, latents);
    }

    /** The state after the steps done so far; {@code segments}: this loop's stage records up to here. */
    Checkpoint checkpoint(String worker, List<StageRecord> segments) {
        return new Checkpoint(stepsDone, latents(), scheduler.snapshot(), noise == null ? List.of() : noise.states(),
                worker, segments);
    }

    List<StageRecord> segments() {
        return segments.apply(this);
    }

    void finish() {
        onFinished.accept(this);
    }

    RuntimeException explain(RuntimeException e) {
        return explainFailure.apply(e);
    }

    @Override
    public String toString() {
        return requestId + " at step " + stepsDone + " of " + totalSteps();
    }
}
