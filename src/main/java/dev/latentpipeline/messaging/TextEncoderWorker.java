package dev.latentpipeline.messaging;

import dev.latentpipeline.model.ModelRepository;
import dev.latentpipeline.observability.StageMetrics;
import dev.latentpipeline.pipeline.GenerationEvent;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.RequestPriority;
import dev.latentpipeline.pipeline.RequestLimits;
import dev.latentpipeline.pipeline.RequestParser;
import dev.latentpipeline.pipeline.Role;
import dev.latentpipeline.pipeline.Stages;
import dev.latentpipeline.pipeline.WorkerIdentity;
import dev.latentpipeline.storage.Completions;
import dev.latentpipeline.storage.StorageException;
import dev.latentpipeline.text.TextEncodingStage;
import dev.latentpipeline.wire.StageMessage;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;

/**
 * The text-encoder role on Kafka: sd.requests in, sd.embeddings out. For each request: validate it (a bad one gets
 * a failed event), announce it (accepted, encoding), encode, send the embeddings, and commit once all of that is on
 * the broker. One message at a time, and the next only after the commit is acknowledged: a worker killed at any
 * moment leaves exactly the message in hand to be redone, never one whose output it had already handed on.
 */
@ApplicationScoped
public class TextEncoderWorker {
    private static final Logger LOG = Logger.getLogger(TextEncoderWorker.class);
    public static final String GROUP = Role.TEXT_ENCODER.consumerGroup();

    @Inject
    PipelineConfig config;
    @Inject
    KafkaClients clients;
    @Inject
    StageConsumers consumers;
    @Inject
    StageProducer producer;
    @Inject
    EventPublisher events;
    @Inject
    StageFailures failures;
    @Inject
    CancellationRegistry cancellations;
    @Inject
    TextEncodingStage stage;
    @Inject
    Completions completions;
    @Inject
    ModelRepository models;
    @Inject
    WorkerIdentity worker;
    @Inject
    MessagingTracing tracing;
    @Inject
    StageMetrics metrics;
    @Inject
    MeterRegistry registry;

    private RequestParser parser;
    /** Completion-marker lookups, beside the encoding. */
    private final ExecutorService lookups = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "text-encoder-lookups");
        t.setDaemon(true);
        return t;
    });
    private StageConsumer consumer;

    /** After the topics, the cancellations and the models: the first message meets a loaded model. */
    void start(@Observes @Priority(1000) StartupEvent event) {
        if (!Role.parse(config.roles()).contains(Role.TEXT_ENCODER)) {
            return;
        }
        parser = new RequestParser(RequestLimits.from(config.limits()), models.family());
        stage.warmUp();
        java.util.List<String> outputs = new java.util.ArrayList<>(RequestPriority.topics(config.topics().embeddings()));
        outputs.add(config.topics().events());
        producer.warmUp(outputs);
        consumer = StageConsumer.start(new StageConsumer.Settings(Stages.TEXT_ENCODER,
                RequestPriority.topics(config.topics().requests()), clients.stageConsumer(Stages.TEXT_ENCODER, GROUP,
                        worker.id(), 8), 8, config.unet().shutdownGrace(), config.priority().share()),
                new StageConsumer.PartitionListener() {
                }, c -> new KafkaClientMetrics(c).bindTo(registry));
        consumers.register(consumer);
        SerialWorker.start(consumer, this::handle, "text-encoder-worker");
    }

    /** The completed event of an earlier job with this id; an unreachable store counts as "none" (it runs again). */
    private Optional<String> completedBefore(String requestId) {
        try {
            return completions.completedEvent(requestId);
        } catch (StorageException e) {
            LOG.debugf("Could not look up an earlier completion of %s: %s", requestId, e.getMessage());
            return Optional.empty();
        }
    }

    /** Handles one request; the returned future completes once everything it sent is on the broker. */
    CompletableFuture<Void> handle(Delivery delivery) {
        InHand inHand = InHand.start(delivery, Stages.TEXT_ENCODER, worker.id(), tracing, metrics);
        CompletableFuture<Void> sent;
        try {
            sent = encode(inHand);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.whenComplete((ok, error) -> inHand.end(error));
    }

    private CompletableFuture<Void> encode(InHand inHand) {
        Delivery delivery = inHand.delivery;
        RequestParser.Outcome outcome = parser.parse(delivery.key(), delivery.value());
        if (outcome instanceof RequestParser.Rejected rejected) {
            if (rejected.requestId() == null) {
                LOG.warnf("Skipped a request without a readable id (%s): %s", delivery, rejected.error().getMessage());
                return CompletableFuture.completedFuture(null);
            }
            LOG.infof("Rejected request %s: %s", rejected.requestId(), rejected.error().getMessage());
            return failures.fail(inHand.trace(), Stages.TEXT_ENCODER, rejected.requestId(), rejected.error());
        }
        GenerationRequest request = ((RequestParser.Accepted) outcome).request();
        if (cancellations.isCancelled(request.id())) {
            return failures.cancelled(inHand.trace(), Stages.TEXT_ENCODER, request.id(), null, null);
        }
        // An id that already completed, sent again, is answered with that job's outcome, not run a second time.
        // The lookup runs while the prompt is encoded, off the request's path.
        CompletableFuture<Optional<String>> earlier = CompletableFuture.supplyAsync(
                () -> completedBefore(request.id()), lookups);
        StageMessage message;
        RuntimeException failure = null;
        message = null;
        try {
            message = stage.encode(request, inHand.queuedUs());
        } catch (RuntimeException e) {
            failure = e;
        }
        Optional<String> completed = earlier.join();
        if (completed.isPresent()) {
            LOG.infof("Request %s was sent again after it completed: answered with its completed event", request.id());
            return events.sendStored(inHand.trace(), request.id(), completed.get());
        }
        // One producer: these events are appended before the embeddings below, without waiting for each.
        CompletableFuture<Void> accepted = events.send(inHand.trace(), GenerationEvent.accepted(request, worker.id()));
        CompletableFuture<Void> encoding = events.send(inHand.trace(), GenerationEvent.stageStarted(request.id(),
                GenerationEvent.ENCODING, worker.id(), Stages.TEXT_ENCODER));
        if (failure != null) {
            CompletableFuture<Void> failed = failures.handle(inHand.trace(), Stages.TEXT_ENCODER, request.id(),
                    "text encoding", failure);
            return CompletableFuture.allOf(accepted, encoding, failed);
        }
        // The request's priority decides the topics it goes through from here on.
        CompletableFuture<?> output = producer.send(inHand.trace(),
                request.priority().topic(config.topics().embeddings()), null, request.id(), message.toByteArray());
        return CompletableFuture.allOf(accepted, encoding, output);
    }
}
