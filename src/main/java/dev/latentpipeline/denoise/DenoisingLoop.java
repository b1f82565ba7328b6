package dev.latentpipeline.denoise;

import dev.latentpipeline.denoise.scheduler.Scheduler;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Tensors;

/**
 * The scheduler loop in latent space: start from the given latents at a given step (noise scaled by the scheduler's
 * init_noise_sigma at step 0 for text-to-image, a noised image part-way for img2img: {@link StartLatents}), ask the
 * UNet for its prediction at each timestep (with classifier-free guidance when an unconditional embedding is given),
 * and let the scheduler step the latents towards the image.
 */
public final class DenoisingLoop {
    private final UNet unet;

    public DenoisingLoop(UNet unet) {
        this.unet = unet;
    }

    /** Called after each step; returning false stops the loop (cancellation). */
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

    /**
     * @param scheduler a scheduler whose timesteps are already set; the listener counts the steps run from the start
     * @return the final latents [n, 4, h, w], or null when the listener stopped the loop
     */
    public FloatTensor run(Inputs inputs, Scheduler scheduler, StepListener listener) {
        int images = Math.toIntExact(inputs.start().latents().dim(0));
        boolean guided = inputs.negativePromptEmbeds() != null;
        FloatTensor hidden = guided
                ? Tensors.concat(Tensors.repeat(inputs.negativePromptEmbeds(), images),
                        Tensors.repeat(inputs.promptEmbeds(), images))
                : Tensors.repeat(inputs.promptEmbeds(), images);
        long[] shape = inputs.start().latents().shape();
        float[] latents = inputs.start().latents().data();
        double[] timesteps = scheduler.timesteps();
        int first = inputs.start().index();
        for (int i = first; i < timesteps.length; i++) {
            FloatTensor modelInput = new FloatTensor(shape, scheduler.scaleModelInput(latents, i));
            FloatTensor prediction;
            if (guided) {
                FloatTensor both = unet.predict(Tensors.concat(modelInput, modelInput), timesteps[i], hidden);
                prediction = ClassifierFreeGuidance.combine(both, inputs.guidanceScale());
            } else {
                prediction = unet.predict(modelInput, timesteps[i], hidden);
            }
            latents = scheduler.step(prediction.data(), i, latents);
            if (!listener.afterStep(i + 1 - first, timesteps.length - first)) {
                return null;
            }
        }
        return new FloatTensor(shape, latents);
    }
}
