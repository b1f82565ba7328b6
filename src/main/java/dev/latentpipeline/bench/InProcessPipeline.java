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
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
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
        DenoisingStage.Denoised denoised = denoiseOne(request, embeddings, explicitNoise, timeout);
        DecodingStage.Rendering rendering = vae.render(denoised.request(), denoised.latents());
        long latencyUs = (System.nanoTime() - start) / 1_000;
        long onnxUs = (onnxNanos() - onnxBefore) / 1_000;
        long pngUs = rendering.pngNanos() / 1_000;
        Sample sample = new Sample(request.id(), true, latencyUs, onnxUs, latencyUs - onnxUs - pngUs, 0, pngUs, 0, 0,
                0, 0, 1, null);
        return new Result(rendering, sample);
    }

    /** Denoises one request through the shared engine (which batches it with any others in flight). */
    private DenoisingStage.Denoised denoiseOne(GenerationRequest request, TextEncodingStage.Embeddings embeddings,
            FloatTensor explicitNoise, Duration timeout) throws Exception {
        if (!denoise.reserve(timeout)) {
            throw new TimeoutException("the denoising engine had no room within " + timeout);
        }
        CompletableFuture<DenoisingStage.Denoised> done = new CompletableFuture<>();
        denoise.submit(new DenoisingStage.Job(request, embeddings.tensors(), null, explicitNoise), 0,
                new ToTheEnd(done));
        try {
            return done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    /** One in-process load run: a sample per request (latency only: ONNX time is not per request here). */
    public record Load(List<Sample> samples, long wallNanos) {
    }

    /**
     * Runs {@code requests} requests from {@code concurrency} callers at once, each calling the stages directly:
     * the denoising engine batches them as it does in a UNet worker, while text encoding and decoding run on the
     * callers' threads side by side (more parallel than the pipeline's one thread each). With {@code unetOnly} only
     * the denoising runs, on embeddings encoded once beforehand: what batching can give on this machine at most.
     */
    public Load run(IntFunction<GenerationRequest> request, FloatTensor explicitNoise, int requests, int concurrency,
            boolean unetOnly, Duration timeout) throws Exception {
        TextEncodingStage.Embeddings shared = unetOnly ? text.embeddings(request.apply(0)) : null;
        AtomicInteger next = new AtomicInteger();
        List<Sample> samples = Collections.synchronizedList(new ArrayList<>());
        ExecutorService callers = Executors.newFixedThreadPool(concurrency);
        long start = System.nanoTime();
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < concurrency; c++) {
                running.add(callers.submit(() -> {
                    for (int i = next.getAndIncrement(); i < requests; i = next.getAndIncrement()) {
                        GenerationRequest r = request.apply(i);
                        long began = System.nanoTime();
                        if (unetOnly) {
                            denoiseOne(r, shared, explicitNoise, timeout);
                        } else {
                            generate(r, explicitNoise, timeout);
                        }
                        long latencyUs = (System.nanoTime() - began) / 1_000;
                        samples.add(new Sample(r.id(), true, latencyUs, 0, 0, 0, 0, 0, 0, 0, 0, 0, null));
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                try {
                    f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof Exception cause ? cause : e;
                }
            }
        } finally {
            callers.shutdownNow();
        }
        return new Load(List.copyOf(samples), System.nanoTime() - start);
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
