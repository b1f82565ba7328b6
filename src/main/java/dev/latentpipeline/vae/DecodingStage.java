package dev.latentpipeline.vae;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latentpipeline.model.ModelRepository;
import dev.latentpipeline.observability.StageObserved;
import dev.latentpipeline.pipeline.CancellationRegistry;
import dev.latentpipeline.pipeline.ErrorCode;
import dev.latentpipeline.pipeline.EventPublisher;
import dev.latentpipeline.pipeline.GenerationEvent;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.HandoffCommitStrategy;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.PipelineException;
import dev.latentpipeline.pipeline.Role;
import dev.latentpipeline.pipeline.StageFailures;
import dev.latentpipeline.pipeline.StageMessages;
import dev.latentpipeline.pipeline.Stages;
import dev.latentpipeline.pipeline.WorkerIdentity;
import dev.latentpipeline.storage.Completions;
import dev.latentpipeline.storage.ImageStore;
import dev.latentpipeline.storage.StorageException;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Tensors;
import dev.latentpipeline.wire.StageMessage;
import dev.latentpipeline.wire.StageRecord;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Stage 3: sd.latents to pixels. Decodes each image's latents with the VAE, writes the PNG to object storage as
 * {@code <request id>/<index>.png} (a retry overwrites the same keys) and announces completion.
 */
@ApplicationScoped
public class DecodingStage {
    private static final Logger LOG = Logger.getLogger(DecodingStage.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    PipelineConfig config;
    @Inject
    @Identifier(HandoffCommitStrategy.NAME)
    HandoffCommitStrategy commits;
    @Inject
    ModelRepository models;
    @Inject
    EventPublisher events;
    @Inject
    ImageStore store;
    @Inject
    WorkerIdentity worker;
    @Inject
    CancellationRegistry cancellations;
    @Inject
    Completions completions;
    @Inject
    StageFailures failures;

    private volatile VaeDecoder decoder;

    /** Before the messaging connectors start (priority 1000), so no message meets an unloaded model. */
    void start(@Observes @Priority(500) StartupEvent event) {
        if (Role.parse(config.roles()).contains(Role.VAE)) {
            decoder();
            store.ensureBucket();
        }
    }

    private VaeDecoder decoder() {
        if (decoder == null) {
            synchronized (this) {
                if (decoder == null) {
                    decoder = new VaeDecoder(models.vaeDecoder(), models.layout().vaeScalingFactor());
                }
            }
        }
        return decoder;
    }

    @StageObserved(Stages.VAE)
    @Incoming("latents")
    @Blocking
    public void onLatents(ConsumerRecord<String, byte[]> record) {
        commits.handle("latents", record, () -> decodeRecord(record));
    }

    private void decodeRecord(ConsumerRecord<String, byte[]> record) {
        String requestId = record.key();
        try {
            StageMessage message = StageMessages.parse(record.value());
            requestId = message.getRequestId();
            if (completions.isCompleted(requestId)) {
                // Redelivered latents, or a second copy from a UNet job that ran twice after a crash.
                LOG.infof("Suppressed duplicate latents for %s: its completed event was already published",
                        requestId);
                return;
            }
            if (cancellations.isCancelled(requestId)) {
                failures.cancelled(Stages.VAE, requestId, null, null);
                return;
            }
            events.publish(GenerationEvent.stageStarted(requestId, GenerationEvent.DECODING, worker.id(),
                    Stages.VAE));
            GenerationEvent completed = decodeAndStore(message);
            events.publish(completed);
            markCompleted(completed);
        } catch (RuntimeException e) {
            failures.handle(Stages.VAE, requestId, "decoding", e);
        }
    }

    /**
     * After the broker has acknowledged the completed event: a crash in between re-publishes it on redelivery (the
     * residual window, milliseconds). The request has completed either way, so a failure here is only logged.
     */
    private void markCompleted(GenerationEvent completed) {
        try {
            completions.markCompleted(completed.requestId(), JSON.writeValueAsString(completed));
        } catch (JsonProcessingException | StorageException e) {
            LOG.warnf("Completion marker for %s not written (%s): a redelivery would publish it again",
                    completed.requestId(), e.getMessage());
        }
    }

    GenerationEvent decodeAndStore(StageMessage message) {
        long started = System.currentTimeMillis();
        long onnxBefore = models.vaeDecoder().nanosInside();
        GenerationRequest request = StageMessages.request(message);
        FloatTensor latents = StageMessages.tensor(message, "latents");
        if (latents == null) {
            throw new PipelineException(ErrorCode.INTERNAL_ERROR, "stage message lacks the latents");
        }
        List<GenerationEvent.StoredImage> images = new ArrayList<>();
        int count = Math.toIntExact(latents.dim(0));
        for (int k = 0; k < count; k++) {
            // One image at a time: a real VAE decoder at 512x512 needs gigabytes per batch item.
            FloatTensor pixels = decoder().decode(Tensors.slice(latents, k, k + 1));
            String key = request.id() + "/" + k + ".png";
            byte[] png = PngImages.encode(PngImages.toRgb(pixels), pngText(request, k));
            store.put(key, png, "image/png", Map.of("request-id", request.id(), "seed",
                    Long.toString(request.seedOf(k))));
            images.add(new GenerationEvent.StoredImage(k, key, request.seedOf(k), request.width(),
                    request.height()));
        }
        long onnxMs = (models.vaeDecoder().nanosInside() - onnxBefore) / 1_000_000;
        List<StageRecord> records = new ArrayList<>(message.getStagesList());
        records.add(StageRecord.newBuilder().setStage(Stages.VAE).setWorker(worker.id()).setStartedAtMs(started)
                .setDurationMs(System.currentTimeMillis() - started).setOnnxMs(onnxMs).build());
        List<GenerationEvent.StageTiming> timings = records.stream().map(StageMessages::timing).toList();
        return GenerationEvent.completed(request.id(), worker.id(), store.bucket(), images, timings,
                message.getWarningsList());
    }

    /**
     * "parameters" in the form image tools commonly read (A1111's), plus the full request as JSON with the seed this
     * image used and where its initial noise came from.
     */
    static Map<String, String> pngText(GenerationRequest request, int index) {
        Map<String, String> text = new LinkedHashMap<>();
        text.put("parameters", request.prompt()
                + (request.negativePrompt().isEmpty() ? "" : "\nNegative prompt: " + request.negativePrompt())
                + "\nSteps: " + request.steps() + ", Sampler: " + request.scheduler() + ", CFG scale: " + request.guidanceScale()
                + ", Seed: " + request.seedOf(index) + ", Size: " + request.width() + "x" + request.height()
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
