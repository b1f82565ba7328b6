package dev.latentpipeline.denoise;

import dev.latentpipeline.denoise.scheduler.Scheduler;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Tensors;

/**
 * The scheduler loop in latent space: start from the given latents at a given step (noise scaled by the scheduler's
 * init_noise_sigma at step 0 for text-to-image, a noised image part-way for img2img, or a checkpoint: see
 * {@link StartLatents}), ask the UNet for its prediction at each timestep (with classifier-free guidance when an
 * unconditional embedding is given), and let the scheduler step the latents towards the image.
 */
public final class DenoisingLoop {
    private final UNet unet;

    public DenoisingLoop(UNet unet) {
        this.unet = unet;
    }

    /** Called after each step with the steps of the schedule done so far; returning false stops the loop. */
    @FunctionalInterface
    public interface StepListener {
        boolean afterStep(int stepsDone, int totalSteps);
    }

    /** What the loop needs besides the model: all images of one request share prompt and schedule. */
    public record Inputs(
            StartLatents start,
            FloatTensor promptEmbeds,
            FloatTensor negativePromptEmbeds,
            float guidanceScale) {
    }

    /** Where a segment of the loop ended: the latents after {@code stepsDone} steps; stopped by the listener? */
    public record Segment(FloatTensor latents, int stepsDone, int totalSteps, boolean stopped) {
        public boolean finished() {
            return stepsDone == totalSteps;
        }
    }

    /**
     * @param scheduler a scheduler whose timesteps are already set
     * @return the final latents [n, 4, h, w], or null when the listener stopped the loop
     */
    public FloatTensor run(Inputs inputs, Scheduler scheduler, StepListener listener) {
        Segment segment = runSegment(inputs, scheduler, listener);
        return segment.stopped() && !segment.finished() ? null : segment.latents();
    }

    /**
     * Runs from the start's step until the end or until the listener returns false. The scheduler must be positioned
     * at that step: fresh for step 0 or an img2img start, restored from a checkpoint otherwise.
     */
    public Segment runSegment(Inputs inputs, Scheduler scheduler, StepListener listener) {
        FloatTensor start = inputs.start().latents();
        int images = Math.toIntExact(start.dim(0));
        boolean guided = inputs.negativePromptEmbeds() != null;
        FloatTensor hidden = guided
                ? Tensors.concat(Tensors.repeat(inputs.negativePromptEmbeds(), images),
                        Tensors.repeat(inputs.promptEmbeds(), images))
                : Tensors.repeat(inputs.promptEmbeds(), images);
        long[] shape = start.shape();
        float[] x = start.data();
        double[] timesteps = scheduler.timesteps();
        for (int i = inputs.start().index(); i < timesteps.length; i++) {
            FloatTensor modelInput = new FloatTensor(shape, scheduler.scaleModelInput(x, i));
            FloatTensor prediction;
            if (guided) {
                FloatTensor both = unet.predict(Tensors.concat(modelInput, modelInput), timesteps[i], hidden);
                prediction = ClassifierFreeGuidance.combine(both, inputs.guidanceScale());
            } else {
                prediction = unet.predict(modelInput, timesteps[i], hidden);
            }
            x = scheduler.step(prediction.data(), i, x);
            if (!listener.afterStep(i + 1, timesteps.length)) {
                return new Segment(new FloatTensor(shape, x), i + 1, timesteps.length, true);
            }
        }
        return new Segment(new FloatTensor(shape, x), timesteps.length, timesteps.length, false);
    }
}
