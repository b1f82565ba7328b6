package dev.latentpipeline.denoise;

import dev.latentpipeline.denoise.scheduler.Scheduler;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.model.family.Conditioning;
import dev.latentpipeline.model.family.UnetInput;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The scheduler loop of one request in latent space, run to the end on the calling thread: start from the given
 * latents at a given step (noise scaled by the scheduler's init_noise_sigma at step 0 for text-to-image, a noised
 * image part-way for img2img: see {@link StartLatents}), ask the UNet for its prediction at each timestep (with
 * classifier-free guidance when an unconditional embedding is given), and let the scheduler step the latents
 * towards the image. SD conditioning only (encoder_hidden_states): the stage feeds every family's. It runs on
 * {@link DenoisingEngine}, the same step code the UNet stage batches requests with.
 */
public final class DenoisingLoop {
    /** The SD families' one conditioning input, which this single-request loop feeds. */
    private static final UnetInput SD_HIDDEN = new UnetInput(UNet.HIDDEN_INPUT, Conditioning.PROMPT_EMBEDS,
            Conditioning.NEGATIVE_PROMPT_EMBEDS);
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

    /**
     * @param scheduler a scheduler whose timesteps are already set, positioned at the start's step
     * @return the final latents [n, 4, h, w], or null when the listener stopped the loop
     */
    public FloatTensor run(Inputs inputs, Scheduler scheduler, StepListener listener) {
        FloatTensor[] result = new FloatTensor[1];
        RuntimeException[] failure = new RuntimeException[1];
        JobControl control = new JobControl() {
            @Override
            public StepAction beforeStart(int stepsDone, int totalSteps) {
                return StepAction.CONTINUE;
            }

            @Override
            public StepAction afterStep(int stepsDone, int totalSteps) {
                return listener.afterStep(stepsDone, totalSteps) ? StepAction.CONTINUE : StepAction.DROP;
            }

            @Override
            public void finished(DenoisingStage.Denoised result) {
            }

            @Override
            public void checkpoint(Checkpoint checkpoint, boolean stopped) {
            }

            @Override
            public void cancelled(int stepsDone, int totalSteps) {
            }

            @Override
            public void failed(RuntimeException error) {
                failure[0] = error;
            }
        };
        boolean guided = inputs.negativePromptEmbeds() != null;
        int images = Math.toIntExact(inputs.start().latents().dim(0));
        Map<String, FloatTensor> wire = new HashMap<>();
        wire.put(Conditioning.PROMPT_EMBEDS, inputs.promptEmbeds());
        if (guided) {
            wire.put(Conditioning.NEGATIVE_PROMPT_EMBEDS, inputs.negativePromptEmbeds());
        }
        Map<String, FloatTensor> rows = UnetConditioning.rows(List.of(SD_HIDDEN), OptionalInt.empty(), wire, guided,
                inputs.guidanceScale(), images);
        DenoisingJob job = new DenoisingJob("local", control, scheduler, null, inputs.start(), guided,
                inputs.guidanceScale(), rows, e -> e, finished -> result[0] = finished.latents(), j -> List.of());
        DenoisingEngine engine = new DenoisingEngine(unet, 1, "local");
        engine.tryReserve();
        engine.add(job);
        engine.runUntilIdle();
        if (failure[0] != null) {
            throw failure[0];
        }
        return result[0];
    }
}
