package dev.latentpipeline.messaging;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latentpipeline.observability.StageMetrics;
import dev.latentpipeline.pipeline.GenerationEvent;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.RequestPriority;
import dev.latentpipeline.pipeline.Role;
import dev.latentpipeline.pipeline.StageMessages;
import dev.latentpipeline.pipeline.Stages;
import dev.latentpipeline.pipeline.WorkerIdentity;
import dev.latentpipeline.storage.Completions;
import dev.latentpipeline.storage.ImageStore;
import dev.latentpipeline.storage.StorageException;
import dev.latentpipeline.storage.StorageOutage;
import dev.latentpipeline.vae.DecodingStage;
import dev.latentpipeline.wire.StageMessage;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The VAE role on Kafka: sd.latents in, images in object storage and the completed event out. Duplicates (the
 * same request's latents twice, after a crash upstream) are suppressed with the completion marker next to the
 * images ({@link Completions}); the marker is written after the completed event is on the broker, off the
 * request's path.
 * <p>
 * When object storage cannot be reached ({@link StorageOutage}) the message stays in hand: it is decoded once, and
 * the marker lookup and the image upload are tried again with back-off until storage answers or the outage has
 * lasted sd.s3.outage-grace (then the request fails with storage_error). The worker takes nothing new meanwhile, so
 * its consumer pauses once its prefetch is full; a message that must hand on while it waits (SIGTERM, its partition
 * moving) is released uncommitted.
 */
@ApplicationScoped
public class VaeWorker {
    private static final Logger LOG = Logger.getLogger(VaeWorker.class);
    public static final String GROUP = Role.VAE.consumerGroup();

    @Inject
    PipelineConfig config;
    @Inject
    KafkaClients clients;
    @Inject
    StageConsumers consumers;
    @Inject
    EventPublisher events;
    @Inject
    StageFailures failures;
    @Inject
    CancellationRegistry cancellations;
    @Inject
    DecodingStage stage;
    @Inject
    ImageStore store;
    @Inject
    Completions completions;
    @Inject
    StorageOutage outage;
    @Inject
    WorkerIdentity worker;
    @Inject
    MessagingTracing tracing;
    @Inject
    StageMetrics metrics;
    @Inject
    MeterRegistry registry;
    @Inject
    ObjectMapper json;

    /** What this worker completed lately: a duplicate right behind the original is caught before its marker lands. */
    private final RecentIds recentlyCompleted = new RecentIds(10_000);
    /** Completion-marker lookups and writes (and a write's later attempts, in an outage), beside the decoding. */
    private final ScheduledExecutorService lookups = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "vae-completion-markers");
        t.setDaemon(true);
        return t;
    });

    void start(@Observes @Priority(1000) StartupEvent event) {
        if (!Role.parse(config.roles()).contains(Role.VAE)) {
            return;
        }
        stage.warmUp();
        store.ensureBucket();
        events.warmUp();
        StageConsumer consumer = StageConsumer.start(new StageConsumer.Settings(Stages.VAE,
                RequestPriority.topics(config.topics().latents()), clients.stageConsumer(Stages.VAE, GROUP, worker.id(), 2), 2,
                config.unet().shutdownGrace(), config.priority().share()), new StageConsumer.PartitionListener() {
                }, c -> new KafkaClientMetrics(c).bindTo(registry));
        consumers.register(consumer);
        SerialWorker.start(consumer, this::handle, "vae-worker");
    }

    CompletableFuture<Void> handle(Delivery delivery) {
        InHand inHand = InHand.start(delivery, Stages.VAE, worker.id(), tracing, metrics);
        CompletableFuture<Void> sent;
        try {
            sent = decode(inHand);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.whenComplete((ok, error) -> inHand.end(error instanceof StorageOutage.HandedOn ? null : error));
    }

    private CompletableFuture<Void> decode(InHand inHand) {
        String requestId = inHand.delivery.key();
        try {
            StageMessage message = StageMessages.parse(inHand.delivery.value());
            requestId = message.getRequestId();
            if (cancellations.isCancelled(requestId)) {
                return failures.cancelled(inHand.trace(), Stages.VAE, requestId, null, null);
            }
            // Redelivered latents, or a second copy from a UNet job that ran twice after a crash: the marker is
            // looked up while the VAE decodes, off the request's path.
            String id = requestId;
            CompletableFuture<Boolean> done = recentlyCompleted.contains(id) ? CompletableFuture.completedFuture(true)
                    : CompletableFuture.supplyAsync(() -> lookUp(id), lookups);
            CompletableFuture<Void> decoding = events.send(inHand.trace(), GenerationEvent.stageStarted(requestId,
                    GenerationEvent.DECODING, worker.id(), Stages.VAE));
            DecodingStage.Decoded decoded = stage.decode(message);
            // From here the decoded images are kept: storage unreachable, the lookup and the upload are tried again.
            Boolean known = joinLookup(done);
            boolean duplicate = known != null ? known
                    : outage.waitOut(() -> completions.isCompleted(id), inHand.delivery::mustYield);
            if (duplicate) {
                LOG.infof("Suppressed duplicate latents for %s: its completed event was already published",
                        requestId);
                return decoding;
            }
            GenerationEvent completed = outage.waitOut(() -> stage.store(decoded, inHand.queuedUs()),
                    inHand.delivery::mustYield);
            CompletableFuture<Void> published = events.send(inHand.trace(), completed).thenRun(() ->
                    recentlyCompleted.add(completed.requestId()));
            published.thenRunAsync(() -> markCompleted(completed, 0), lookups);
            return CompletableFuture.allOf(decoding, published);
        } catch (StorageOutage.HandedOn e) {
            // Not failed: the serial worker sees the message must yield and releases it for the next owner.
            LOG.infof("%s waited for object storage and hands on: its next owner decodes it again", requestId);
            return CompletableFuture.failedFuture(e);
        } catch (RuntimeException e) {
            return failures.handle(inHand.trace(), Stages.VAE, requestId, "decoding", e);
        }
    }

    /** Whether the request's marker is there; null (not known) when storage cannot be reached. */
    private Boolean lookUp(String requestId) {
        try {
            return completions.isCompleted(requestId);
        } catch (StorageException e) {
            if (StorageOutage.isOutage(e)) {
                return null;
            }
            throw e;
        }
    }

    /** The marker lookup's answer; its storage error is the request's, as if it had been looked up in line. */
    private static Boolean joinLookup(CompletableFuture<Boolean> lookup) {
        try {
            return lookup.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        }
    }

    /**
     * After the broker has acknowledged the completed event: a crash in between re-publishes it on redelivery (the
     * residual window, milliseconds). In an outage it is tried again, scheduled on the marker thread, until the grace
     * is over. The request has completed either way, so a failure here is only logged.
     */
    private void markCompleted(GenerationEvent completed, int attempt) {
        try {
            completions.markCompleted(completed.requestId(), json.writeValueAsString(completed));
        } catch (StorageException e) {
            if (outage.shouldWait(e)) {
                lookups.schedule(() -> markCompleted(completed, attempt + 1), outage.backoff(attempt).toMillis(),
                        TimeUnit.MILLISECONDS);
                return;
            }
            LOG.warnf("Completion marker for %s not written (%s): a redelivery would publish it again",
                    completed.requestId(), outage.explain(e).getMessage());
        } catch (JsonProcessingException e) {
            LOG.warnf("Completion marker for %s not written (%s): a redelivery would publish it again",
                    completed.requestId(), e.getMessage());
        }
    }
}
