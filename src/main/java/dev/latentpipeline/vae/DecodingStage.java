package dev.latentpipeline.vae;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latentpipeline.model.ModelRepository;
import dev.latentpipeline.model.OnnxModel;
import dev.latentpipeline.model.family.ModelFamily;
import dev.latentpipeline.pipeline.ErrorCode;
import dev.latentpipeline.pipeline.GenerationEvent;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.PipelineException;
import dev.latentpipeline.pipeline.StageMessages;
import dev.latentpipeline.pipeline.Stages;
import dev.latentpipeline.pipeline.WorkerIdentity;
import dev.latentpipeline.storage.ImageStore;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Tensors;
import dev.latentpipeline.wire.StageMessage;
import dev.latentpipeline.wire.StageRecord;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Stage 3, latents to pixels, payload in and payload out: decodes each image's latents with the VAE, encodes the
 * PNG, writes it to object storage as {@code <request id>/<index>.png} (a retry overwrites the same keys) and
 * returns the completed event. The bean (and its model) is created on first use.
 */
@ApplicationScoped
public class DecodingStage {
    private static final Logger LOG = Logger.getLogger(DecodingStage.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    ModelRepository models;
    @Inject
    ImageStore store;
    @Inject
    WorkerIdentity worker;

    private VaeDecoder decoder;
    private int latentChannels;

    @PostConstruct
    void open() {
        ModelFamily family = models.family();
        OnnxModel model = models.vaeDecoder();
        decoder = new VaeDecoder(model, family.latentScaling());
        latentChannels = family.latentChannels();
        if (family.vaeForceUpcast() && model.inputs().values().stream()
                .anyMatch(input -> input.type == ai.onnxruntime.OnnxJavaType.FLOAT16)) {
            // diffusers upcasts such a VAE to float32 at run time; an ONNX graph's precision is fixed.
            LOG.warnf("vae_decoder runs in float16 but its config says force_upcast (it overflows in fp16): "
                    + "requests whose decoding overflows fail with model_error; an fp32 or fp16-fix VAE avoids it");
        }
    }

    /**
     * Loads the model and runs it once on a small latent, so the first request does not pay for ONNX Runtime's first
     * run. An export with fixed input shapes refuses it; that only means no warm-up.
     */
    public void warmUp() {
        try {
            decoder.decode(FloatTensor.zeros(1, latentChannels, 8, 8));
        } catch (RuntimeException e) {
            LOG.debugf("VAE warm-up skipped: %s", e.getMessage());
        }
    }

    /** One image as a PNG, with the seed it came from. */
    public record Png(int index, long seed, byte[] bytes) {
    }

    /** A request's images, and where the time went: inside ONNX Runtime, and encoding PNGs. */
    public record Rendering(List<Png> images, long onnxNanos, long pngNanos) {
    }

    /** Decodes every image of {@code latents} [n, 4, h, w] and encodes it as a PNG with its parameters embedded. */
    public Rendering render(GenerationRequest request, FloatTensor latents) {
        List<Png> images = new ArrayList<>();
        long onnxBefore = models.vaeDecoder().nanosInside();
        long pngNanos = 0;
        int count = Math.toIntExact(latents.dim(0));
        for (int k = 0; k < count; k++) {
            // One image at a time: a real VAE decoder at 512x512 needs gigabytes per batch item.
            FloatTensor pixels = decoder.decode(Tensors.slice(latents, k, k + 1));
            long pngStart = System.nanoTime();
            images.add(new Png(k, request.seedOf(k), PngImages.encode(PngImages.toRgb(pixels),
                    pngText(request, k))));
            pngNanos += System.nanoTime() - pngStart;
        }
        return new Rendering(images, models.vaeDecoder().nanosInside() - onnxBefore, pngNanos);
    }

    /** One sd.latents message decoded, not yet stored: its request, its PNGs, and when the stage began it. */
    public record Decoded(StageMessage message, GenerationRequest request, Rendering rendering, long startedAtMs,
            long startNanos) {
    }

    /** Decodes one sd.latents message into PNGs. */
    public Decoded decode(StageMessage message) {
        long started = System.currentTimeMillis();
        long startNanos = System.nanoTime();
        GenerationRequest request = StageMessages.request(message);
        FloatTensor latents = StageMessages.tensor(message, "latents");
        if (latents == null) {
            throw new PipelineException(ErrorCode.INTERNAL_ERROR, "stage message lacks the latents");
        }
        return new Decoded(message, request, render(request, latents), started, startNanos);
    }

    /**
     * Writes the PNGs to object storage and returns the completed event (not yet published).
     *
     * @param queuedUs how long the message waited before this worker took it, in microseconds
     */
    public GenerationEvent store(Decoded decoded, long queuedUs) {
        GenerationRequest request = decoded.request();
        long storageStart = System.nanoTime();
        List<GenerationEvent.StoredImage> images = new ArrayList<>();
        for (Png png : decoded.rendering().images()) {
            String key = request.id() + "/" + png.index() + ".png";
            store.put(key, png.bytes(), "image/png", Map.of("request-id", request.id(), "seed",
                    Long.toString(png.seed())));
            images.add(new GenerationEvent.StoredImage(png.index(), key, png.seed(), request.width(),
                    request.height()));
        }
        long storageNanos = System.nanoTime() - storageStart;
        List<StageRecord> records = new ArrayList<>(decoded.message().getStagesList());
        records.add(StageMessages.record(Stages.VAE, worker.id(), decoded.startedAtMs(),
                System.nanoTime() - decoded.startNanos(), decoded.rendering().onnxNanos()).setQueuedUs(queuedUs)
                .setPngUs(decoded.rendering().pngNanos() / 1_000).setStorageUs(storageNanos / 1_000).build());
        List<GenerationEvent.StageTiming> timings = records.stream().map(StageMessages::timing).toList();
        return GenerationEvent.completed(request.id(), worker.id(), store.bucket(), images, timings,
                decoded.message().getWarningsList());
    }

    /**
     * "parameters" in the form image tools commonly read (A1111's), plus the full request as JSON with the seed this
     * image used and where its initial noise came from.
     */
    static Map<String, String> pngText(GenerationRequest request, int index) {
        Map<String, String> text = new LinkedHashMap<>();
        String negative = request.negativePrompt();
        text.put("parameters", request.prompt()
                + (negative == null || negative.isEmpty() ? "" : "\nNegative prompt: " + negative)
                + "\nSteps: " + request.steps() + ", Sampler: " + request.scheduler() + ", CFG scale: "
                + request.guidanceScale() + ", Seed: " + request.seedOf(index) + ", Size: " + request.width() + "x"
                + request.height()
                + (request.imageToImage() ? ", Denoising strength: " + request.strength() + ", Init image: "
                        + request.initImage() : "")
                + (request.latents() != null ? ", Latents: " + request.latents() : ""));
        try {
            Map<String, Object> generation = new LinkedHashMap<>();
            generation.put("request", request);
            generation.put("image_index", index);
            generation.put("seed", request.seedOf(index));
            // Which noise made the image: explicit latents replace the seed's initial noise (image k is slice k).
            generation.put("initial_noise", request.latents() != null
                    ? "latents " + request.latents() + "[" + index + "]" : "seed " + request.seedOf(index));
            text.put("latent-pipeline", JSON.writeValueAsString(generation));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return text;
    }
}
