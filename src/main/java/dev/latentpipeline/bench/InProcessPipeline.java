package dev.latentpipeline.bench;

import dev.latentpipeline.denoise.Checkpoint;
import dev.latentpipeline.denoise.DenoisingStage;
import dev.latentpipeline.denoise.JobControl;
import dev.latentpipeline.model.ModelRepository;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.text.TextEncodingStage;
import dev.latentpipeline.vae.DecodingStage;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The three stages' code in this JVM, without broker or object storage: the same beans the stage workers call, so
 * the same ONNX sessions, tokenizer, denoising engine, VAE and PNG encoder. What the pipeline costs beyond this is
 * its overhead.
 */
@ApplicationScoped
public class InProcessPipeline {
    @Inject
    TextEncodingStage text;
    @Inject
    DenoisingStage denoise;
    @Inject
    DecodingStage vae;
    @Inject
    ModelRepository models;

    /** The PNGs of one request, and the sample of where its time went. */
    public record Result(DecodingStage.Rendering rendering, Sample sample) {
    }

    /**
     * Runs one request end to end.
     *
     * @param explicitNoise the request's initial latents in hand, or null to draw them from its seeds
     */
    public Result generate(GenerationRequest request, FloatTensor explicitNoise, Duration timeout) throws Exception {
        long start = System.nanoTime();
        long onnxBefore = onnxNanos();
        TextEncodingStage.Embeddings embeddings = text.embeddings(request);
        if (!denoise.reserve(timeout)) {
            throw new TimeoutException("the denoising engine had no room within " + timeout);
        }
        CompletableFuture<DenoisingStage.Denoised> done = new CompletableFuture<>();
        denoise.submit(new DenoisingStage.Job(request, embeddings.tensors(), null, explicitNoise), 0,
                new ToTheEnd(done));
        DenoisingStage.Denoised denoised;
        try {
            denoised = done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
        DecodingStage.Rendering rendering = vae.render(denoised.request(), denoised.latents());
        long latencyUs = (System.nanoTime() - start) / 1_000;
        long onnxUs = (onnxNanos() - onnxBefore) / 1_000;
        long pngUs = rendering.pngNanos() / 1_000;
        Sample sample = new Sample(request.id(), true, latencyUs, onnxUs, latencyUs - onnxUs - pngUs, 0, pngUs, 0, 0,
                0, 0, 1, null);
        return new Result(rendering, sample);
    }

    private long onnxNanos() {
        long total = 0;
        for (String name : models.openModels()) {
            total += switch (name) {
                case "text_encoder" -> models.textEncoder().nanosInside();
                case "unet" -> models.unet().nanosInside();
                case "vae_decoder" -> models.vaeDecoder().nanosInside();
                case "vae_encoder" -> models.vaeEncoder().nanosInside();
                default -> 0;
            };
        }
        return total;
    }

    /** Runs the job to its end and hands the result over; never checkpoints, never yields. */
    private record ToTheEnd(CompletableFuture<DenoisingStage.Denoised> done) implements JobControl {
        @Override
        public StepAction beforeStart(int stepsDone, int totalSteps) {
            return StepAction.CONTINUE;
        }

        @Override
        public StepAction afterStep(int stepsDone, int totalSteps) {
            return StepAction.CONTINUE;
        }

        @Override
        public void finished(DenoisingStage.Denoised result) {
            done.complete(result);
        }

        @Override
        public void checkpoint(Checkpoint checkpoint, boolean stopped) {
        }

        @Override
        public void cancelled(int stepsDone, int totalSteps) {
            done.completeExceptionally(new IllegalStateException("cancelled"));
        }

        @Override
        public void failed(RuntimeException error) {
            done.completeExceptionally(error);
        }
    }
}
