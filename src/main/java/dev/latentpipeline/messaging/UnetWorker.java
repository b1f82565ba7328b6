package dev.latentpipeline.messaging;

import dev.latentpipeline.denoise.Checkpoint;
import dev.latentpipeline.denoise.DenoisingStage;
import dev.latentpipeline.denoise.JobControl;
import dev.latentpipeline.observability.StageMetrics;
import dev.latentpipeline.pipeline.GenerationEvent;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.RequestPriority;
import dev.latentpipeline.pipeline.RequestParser;
import dev.latentpipeline.pipeline.Role;
import dev.latentpipeline.pipeline.StageMessages;
import dev.latentpipeline.pipeline.Stages;
import dev.latentpipeline.pipeline.WorkerIdentity;
import dev.latentpipeline.storage.StorageOutage;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.TensorWireCodec;
import dev.latentpipeline.wire.StageMessage;
import dev.latentpipeline.wire.StageRecord;
import dev.latentpipeline.wire.UnetJobState;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * The UNet role on Kafka: sd.embeddings in, sd.latents out. It holds up to sd.unet.max-batch jobs from the
 * partitions it owns and runs them on the denoising engine, which batches them step by step. For each job it owns
 * the decisions the engine asks for ({@link JobControl}): progress events, cancellation, side checkpoints every
 * sd.unet.checkpoint-every steps (to sd.checkpoints, see {@link SideCheckpoints}), and handing on at the next step
 * when the job's partition moves away or the worker stops. A message is committed once its latents (or its failed
 * or cancelled event) are on the broker; with several messages of a partition in hand, the committed offset is the
 * lowest unfinished one ({@link StageConsumer}).
 */
@ApplicationScoped
public class UnetWorker {
    private static final Logger LOG = Logger.getLogger(UnetWorker.class);
    public static final String GROUP = Role.UNET.consumerGroup();
    static final Duration TAKE_WAIT = Duration.ofSeconds(1);
    static final Duration FIRST_RETRY = Duration.ofMillis(500);
    static final Duration LAST_RETRY = Duration.ofSeconds(30);

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
    DenoisingStage stage;
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
    PreviewPublisher previews;

    private StageConsumer consumer;
    private final Feeding feeding = new Feeding();
    private SideCheckpoints checkpoints;
    /** Requests with a job in this worker now: a second message for one of them is a copy (a redone upstream). */
    private final java.util.Set<String> running = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private CheckpointPolicy policy;
    private ProgressPolicy progress;
    /** Preview every this many steps (0: none); settable so the benchmark can compare with and without. */
    private volatile int previewEvery;
    private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "unet-resend");
        t.setDaemon(true);
        return t;
    });

    void start(@Observes @Priority(1000) StartupEvent event) {
        if (!Role.parse(config.roles()).contains(Role.UNET)) {
            return;
        }
        policy = CheckpointPolicy.parse(config.unet().checkpointEvery());
        progress = new ProgressPolicy(config.events().progressEvery(), config.events().progressInterval());
        previewEvery = Math.max(0, config.previews().every());
        if (previewEvery > 0) {
            previews.warmUp();
        }
        int maxBatch = stage.maxBatch();
        List<String> inputs = RequestPriority.topics(config.topics().embeddings());
        checkpoints = new SideCheckpoints(config.topics().checkpoints(), inputs, producer,
                clients.reader(KafkaClients.clientId(worker.id(), "checkpoints")));
        checkpoints.checkPartitions();
        List<String> outputs = new java.util.ArrayList<>(RequestPriority.topics(config.topics().latents()));
        outputs.addAll(List.of(config.topics().events(), config.topics().checkpoints(), config.topics().previews()));
        producer.warmUp(outputs);
        consumer = StageConsumer.start(new StageConsumer.Settings(Stages.UNET, inputs,
                clients.stageConsumer(Stages.UNET, GROUP, worker.id(), maxBatch), maxBatch,
                config.unet().shutdownGrace(), config.priority().share()), new StageConsumer.PartitionListener() {
                    @Override
                    public void assigned(Collection<TopicPartition> partitions) {
                        checkpoints.load(partitions);
                    }
                }, c -> new KafkaClientMetrics(c).bindTo(registry));
        consumers.register(consumer);
        Thread feeder = new Thread(this::feed, "unet-feeder");
        feeder.setDaemon(true);
        feeder.start();
    }

    /** Previews every this many steps from now on (0: none); for the benchmark. */
    public void setPreviewEvery(int steps) {
        previewEvery = Math.max(0, steps);
    }

    @PreDestroy
    void close() {
        retries.shutdownNow();
        if (checkpoints != null) {
            checkpoints.close();
        }
    }

    /**
     * Takes no message from now until {@link #resumeFeeding}, and returns once the feeder holds no room in the
     * engine: for the benchmark's in-process runs, which share the engine (the feeder keeps one place reserved
     * while it waits for a message, which would leave them none with batching off).
     */
    public void pauseFeeding() throws InterruptedException {
        if (consumer == null) {
            return; // this process runs no UNet role: there is no feeder
        }
        synchronized (feeding) {
            feeding.paused = true;
            while (!feeding.parked && consumer.running()) {
                feeding.wait(TAKE_WAIT.toMillis());
            }
        }
    }

    public void resumeFeeding() {
        synchronized (feeding) {
            feeding.paused = false;
            feeding.notifyAll();
        }
    }

    /** Whether the feeder is told to stop taking messages, and whether it has. */
    private static final class Feeding {
        boolean paused;
        boolean parked;
    }

    /** Takes a message whenever the engine has room for one more job. */
    private void feed() {
        while (consumer.running()) {
            try {
                synchronized (feeding) {
                    while (feeding.paused) {
                        feeding.parked = true;
                        feeding.notifyAll();
                        feeding.wait();
                    }
                    feeding.parked = false;
                }
                if (!stage.reserve(TAKE_WAIT)) {
                    continue;
                }
                Delivery delivery = consumer.take(TAKE_WAIT);
                if (delivery == null) {
                    stage.unreserve();
                    continue;
                }
                begin(delivery);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.errorf(e, "The UNet feeder failed; going on");
            }
        }
    }

    /** Starts a job from a message; its room in the engine is reserved. */
    private void begin(Delivery delivery) {
        InHand inHand = InHand.start(delivery, Stages.UNET, worker.id(), tracing, metrics);
        String requestId = delivery.key();
        try {
            StageMessage message = StageMessages.parse(delivery.value());
            requestId = message.getRequestId();
            if (!running.add(requestId)) {
                // The same request again while its job runs here (the text encoder redid its message in hand after
                // a crash): one loop per request.
                LOG.infof("Dropped a duplicate denoising job for %s: it is running on this worker", requestId);
                stage.unreserve();
                inHand.end(null);
                delivery.done();
                return;
            }
            UnetJobState state = checkpoints.state(delivery.partition(), requestId);
            if (state != null && state.hasEnded()) {
                running.remove(requestId);
                // A redelivered copy (a crash upstream between sending and committing) of a job that has ended.
                LOG.infof("Dropped a duplicate denoising job for %s: it already ended (%s)", requestId,
                        state.getEnded().getOutcome());
                stage.unreserve();
                inHand.end(null);
                delivery.done();
                return;
            }
            GenerationRequest request = StageMessages.request(message);
            Checkpoint resume = state != null && state.hasCheckpoint() ? Checkpoint.fromProto(state.getCheckpoint())
                    : message.hasCheckpoint() ? Checkpoint.fromProto(message.getCheckpoint()) : null;
            Job job = new Job(inHand, message, request, resume == null ? -1 : resume.stepsDone());
            stage.submit(new DenoisingStage.Job(request, StageMessages.tensors(message), resume), inHand.queuedUs(),
                    job);
        } catch (RuntimeException e) {
            stage.unreserve();
            String id = requestId;
            if (id != null) {
                running.remove(id);
            }
            finish(inHand, id, "failed",
                    () -> failures.handle(inHand.trace(), Stages.UNET, id, "denoising", e), e);
        }
    }

    /**
     * Ends a message once {@code send} is on the broker: the job's end marker goes to sd.checkpoints and the message
     * is committed. A send that fails is retried with back-off until it succeeds or the message must be handed on.
     */
    private void finish(InHand inHand, String requestId, String outcome, Supplier<CompletableFuture<?>> send,
            Throwable error) {
        attempt(inHand, send, FIRST_RETRY).thenRun(() -> {
            if (requestId != null) {
                checkpoints.ended(inHand.trace(), inHand.delivery.partition(), requestId, outcome, worker.id());
                running.remove(requestId);
            }
            inHand.end(error);
            inHand.delivery.done();
        }).exceptionally(e -> {
            if (requestId != null) {
                running.remove(requestId);
            }
            inHand.end(e);
            inHand.delivery.release();
            return null;
        });
    }

    private CompletableFuture<Void> attempt(InHand inHand, Supplier<CompletableFuture<?>> send, Duration delay) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        send.get().whenComplete((ok, error) -> {
            if (error == null) {
                result.complete(null);
            } else if (inHand.delivery.mustYield()) {
                LOG.warnf("%s could not be answered (%s) and is handed on", inHand.delivery, error.toString());
                result.completeExceptionally(error);
            } else {
                LOG.warnf("%s could not be answered (%s); trying again in %d ms", inHand.delivery, error.toString(),
                        delay.toMillis());
                Duration next = delay.multipliedBy(2).compareTo(LAST_RETRY) > 0 ? LAST_RETRY : delay.multipliedBy(2);
                retries.schedule(() -> attempt(inHand, send, next).whenComplete((r, e) -> {
                    if (e == null) {
                        result.complete(null);
                    } else {
                        result.completeExceptionally(e);
                    }
                }), delay.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            }
        });
        return result;
    }

    /** One job's answers to the engine; called on the engine's thread (or the preparation thread on failure). */
    private final class Job implements JobControl {
        private final InHand inHand;
        private final StageMessage message;
        private final GenerationRequest request;
        private int lastCheckpoint;
        private int totalSteps;
        private long lastProgressNanos;

        /** The step a checkpoint resumed this job at, or -1 for a new loop. */
        private final int resumedFrom;
        /** Preparations that failed because object storage was unreachable (init image, latents). */
        private int storageWaits;

        Job(InHand inHand, StageMessage message, GenerationRequest request, int resumedFrom) {
            this.inHand = inHand;
            this.message = message;
            this.request = request;
            this.resumedFrom = resumedFrom;
        }

        @Override
        public StepAction beforeStart(int stepsDone, int totalSteps) {
            lastCheckpoint = stepsDone;
            this.totalSteps = totalSteps;
            if (cancellations.isCancelled(request.id())) {
                return StepAction.CANCEL;
            }
            if (inHand.delivery.mustYield()) {
                // Not started: the partition's next owner takes it from its last checkpoint.
                running.remove(request.id());
                inHand.end(null);
                inHand.delivery.release();
                return StepAction.DROP;
            }
            if (resumedFrom < 0) {
                // A new loop announces its start (step 0, or img2img's first step); a resumed one does not repeat
                // the step its previous worker reported.
                publishProgress(stepsDone, totalSteps);
            }
            return StepAction.CONTINUE;
        }

        @Override
        public StepAction afterStep(int stepsDone, int totalSteps) {
            long now = System.nanoTime();
            if (progress.due(stepsDone, totalSteps, lastProgressNanos == 0 ? Long.MAX_VALUE : now - lastProgressNanos)) {
                publishProgress(stepsDone, totalSteps);
            }
            // A cancelled request stops here, within one step of the cancel command reaching this worker.
            if (cancellations.isCancelled(request.id())) {
                return StepAction.CANCEL;
            }
            if (stepsDone < totalSteps && inHand.delivery.mustYield()) {
                return StepAction.HAND_ON;
            }
            if (policy.due(lastCheckpoint, stepsDone, totalSteps)) {
                lastCheckpoint = stepsDone;
                return StepAction.CHECKPOINT;
            }
            return StepAction.CONTINUE;
        }

        @Override
        public boolean wantsPreview(int stepsDone, int totalSteps) {
            int every = previewEvery;
            return every > 0 && stepsDone < totalSteps && stepsDone % every == 0;
        }

        @Override
        public void preview(int stepsDone, int totalSteps, FloatTensor predictedOriginal) {
            previews.publish(inHand.trace(), request.id(), stepsDone, totalSteps, predictedOriginal);
        }

        private void publishProgress(int stepsDone, int totalSteps) {
            lastProgressNanos = System.nanoTime();
            events.publishQuietly(inHand.trace(), GenerationEvent.progress(request.id(), worker.id(), stepsDone,
                    totalSteps, stage.maxBatch()));
        }

        @Override
        public void finished(DenoisingStage.Denoised result) {
            long encodeStart = System.nanoTime();
            StageMessage.Builder out = message.toBuilder()
                    .setRequestJson(RequestParser.toJson(result.request()))
                    .addAllWarnings(result.warnings())
                    .clearCheckpoint()
                    .clearTensors()
                    .addTensors(TensorWireCodec.encode("latents", result.latents()));
            long encodeUs = (System.nanoTime() - encodeStart) / 1_000;
            List<StageRecord> records = result.records();
            out.addAllStages(records.subList(0, records.size() - 1))
                    .addStages(records.get(records.size() - 1).toBuilder().setEncodeUs(encodeUs));
            byte[] bytes = out.build().toByteArray();
            // After the job's last previews: on the broker before the latents, so before the completed event.
            Supplier<CompletableFuture<?>> send = () -> producer.send(inHand.trace(),
                    request.priority().topic(config.topics().latents()), null, request.id(), bytes);
            // Previews still rendering: the send waits for them on this worker's retry thread (neither the preview
            // thread nor the JDK's timeout thread may block on a full producer buffer).
            finish(inHand, request.id(), "finished", () -> {
                CompletableFuture<Void> published = previews.whenPublished(request.id());
                return published.isDone() ? send.get() : published.thenComposeAsync(ready -> send.get(), retries);
            }, null);
        }

        @Override
        public void checkpoint(Checkpoint checkpoint, boolean stopped) {
            CompletableFuture<?> written = checkpoints.write(inHand.trace(), inHand.delivery.partition(),
                    request.id(), checkpoint);
            if (!stopped) {
                written.whenComplete((ok, e) -> {
                    if (e != null) {
                        LOG.warnf("Checkpoint of %s at step %d not written: %s", request.id(), checkpoint.stepsDone(),
                                e.toString());
                    }
                });
                return;
            }
            String why = consumer.stopping() ? "on shutdown" : "for its partition's next owner";
            written.whenComplete((ok, e) -> {
                if (e == null) {
                    LOG.infof("Checkpointed %s at step %d of %d %s", request.id(), checkpoint.stepsDone(),
                            totalSteps, why);
                } else {
                    LOG.warnf("Checkpoint of %s at step %d not written (%s): its next owner redoes those steps",
                            request.id(), checkpoint.stepsDone(), e.toString());
                }
                running.remove(request.id());
                inHand.end(null);
                inHand.delivery.release();
            });
        }

        @Override
        public void cancelled(int stepsDone, int totalSteps) {
            // Cancelled before any step ran: step 0 and no total, as the other stages report it.
            Integer step = stepsDone;
            Integer total = stepsDone > 0 ? totalSteps : null;
            finish(inHand, request.id(), "cancelled",
                    () -> failures.cancelled(inHand.trace(), Stages.UNET, request.id(), step, total), null);
        }

        /** Storage unreachable while reading the job's init image or latents: wait, its room kept (StorageOutage). */
        @Override
        public Duration retryPreparation(RuntimeException error) {
            if (inHand.delivery.mustYield() || !outage.shouldWait(error)) {
                return null;
            }
            if (storageWaits == 0) {
                LOG.infof("%s waits for object storage before it can start", request.id());
            }
            return outage.backoff(storageWaits++);
        }

        @Override
        public void failed(RuntimeException error) {
            if (StorageOutage.isOutage(error) && inHand.delivery.mustYield()) {
                // It waited for storage when its partition moved or the worker stopped: not failed, not committed.
                LOG.infof("%s waited for object storage and hands on to its partition's next owner", request.id());
                running.remove(request.id());
                inHand.end(null);
                inHand.delivery.release();
                return;
            }
            RuntimeException reason = outage.explain(error);
            finish(inHand, request.id(), "failed",
                    () -> failures.handle(inHand.trace(), Stages.UNET, request.id(), "denoising", reason), reason);
        }
    }
}
