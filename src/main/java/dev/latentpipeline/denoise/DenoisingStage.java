package dev.latentpipeline.denoise;

import dev.latentpipeline.denoise.img2img.VaeEncoder;
import dev.latentpipeline.denoise.scheduler.Scheduler;
import dev.latentpipeline.denoise.scheduler.SchedulerConfig;
import dev.latentpipeline.denoise.scheduler.Schedulers;
import dev.latentpipeline.model.ModelRepository;
import dev.latentpipeline.observability.StageObserved;
import dev.latentpipeline.pipeline.CancellationRegistry;
import dev.latentpipeline.pipeline.ErrorCode;
import dev.latentpipeline.pipeline.EventPublisher;
import dev.latentpipeline.pipeline.GenerationEvent;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.HandoffCommitStrategy;
import dev.latentpipeline.pipeline.JobCancelledException;
import dev.latentpipeline.pipeline.PartitionWork;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.PipelineException;
import dev.latentpipeline.pipeline.RequestParser;
import dev.latentpipeline.pipeline.Role;
import dev.latentpipeline.pipeline.StageFailures;
import dev.latentpipeline.pipeline.StageMessages;
import dev.latentpipeline.pipeline.StageOutput;
import dev.latentpipeline.pipeline.Stages;
import dev.latentpipeline.pipeline.WorkerIdentity;
import dev.latentpipeline.storage.Completions;
import dev.latentpipeline.storage.ImageStore;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.TensorWireCodec;
import dev.latentpipeline.wire.StageMessage;
import dev.latentpipeline.wire.StageRecord;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Stage 2: sd.embeddings to sd.latents. Prepares the start latents (seeded noise, explicit latents, or an encoded
 * init image for img2img), runs the scheduler loop with guidance. Every sd.unet.checkpoint-every steps (and on
 * shutdown) it stops and sends the request back to sd.embeddings as a checkpoint, which any UNet worker continues.
 */
@ApplicationScoped
public class DenoisingStage {
    private static final Logger LOG = Logger.getLogger(DenoisingStage.class);
    /** SD's latent channels; the VAE maps them to and from RGB at 1/8 of the image size. */
    static final int LATENT_CHANNELS = 4;
    static final int VAE_DOWNSAMPLE = 8;
    static final String FALLBACK_SCHEDULER = "euler";
    /** The incoming channel: sd.embeddings, text encoder output and checkpoints alike. */
    static final String CHANNEL = "embeddings";

    @Inject
    PipelineConfig config;
    @Inject
    ModelRepository models;
    @Inject
    EventPublisher events;
    @Inject
    StageOutput output;
    @Inject
    WorkerIdentity worker;
    @Inject
    ImageStore store;
    @Inject
    CancellationRegistry cancellations;
    @Inject
    @Identifier(HandoffCommitStrategy.NAME)
    HandoffCommitStrategy commits;
    @Inject
    Completions completions;
    @Inject
    StageFailures failures;

    private volatile DenoisingLoop loop;
    private volatile InitialLatents initialLatents;
    private volatile VaeEncoder vaeEncoder;
    private volatile SchedulerConfig schedulerConfig;
    private volatile CheckpointPolicy checkpoints = CheckpointPolicy.NEVER;

    /** Before the messaging connectors start (priority 1000), so no message meets an unloaded model. */
    void start(@Observes @Priority(500) StartupEvent event) {
        if (Role.parse(config.roles()).contains(Role.UNET)) {
            checkpoints = CheckpointPolicy.parse(config.unet().checkpointEvery());
            loop();
        }
    }

    private DenoisingLoop loop() {
        if (loop == null) {
            synchronized (this) {
                if (loop == null) {
                    schedulerConfig = SchedulerConfig.fromJson(models.layout().schedulerConfig());
                    initialLatents = new InitialLatents(store, this::vaeEncoder);
                    loop = new DenoisingLoop(new UNet(models.unet()));
                }
            }
        }
        return loop;
    }

    /** img2img's encoder is opened on the first img2img request: text-to-image workers never load it. */
    private VaeEncoder vaeEncoder() {
        if (vaeEncoder == null) {
            synchronized (this) {
                if (vaeEncoder == null) {
                    vaeEncoder = new VaeEncoder(models.vaeEncoder(), models.layout().vaeScalingFactor());
                }
            }
        }
        return vaeEncoder;
    }

    @StageObserved(Stages.UNET)
    @Incoming("embeddings")
    @Blocking
    public void onEmbeddings(ConsumerRecord<String, byte[]> record) {
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        PartitionWork work = commits.work(CHANNEL);
        commits.handle(CHANNEL, record, () -> {
            String requestId = record.key();
            try {
                StageMessage message = StageMessages.parse(record.value());
                requestId = message.getRequestId();
                if (completions.isKnownCompleted(requestId)) {
                    // A redelivered job (a crash between sending a checkpoint and committing) whose twin finished.
                    LOG.infof("Dropped a duplicate denoising job for %s: the request has completed", requestId);
                    return;
                }
                Outcome outcome = denoise(message, () -> work.mustYield(partition));
                output.send(outcome.channel(), requestId, outcome.message().toByteArray());
            } catch (RuntimeException e) {
                failures.handle(Stages.UNET, requestId, "denoising", e);
            }
        });
    }

    /** Where a message goes: finished latents to sd.latents, or a checkpoint back to sd.embeddings. */
    record Outcome(String channel, StageMessage message) {
    }

    /** {@code handOn} says when the loop must stop at this step and checkpoint (shutdown, partition moving). */
    Outcome denoise(StageMessage message, BooleanSupplier handOn) {
        long started = System.currentTimeMillis();
        DenoisingLoop denoisingLoop = loop();
        long onnxBefore = models.unet().nanosInside();
        GenerationRequest request = StageMessages.request(message);
        if (cancellations.isCancelled(request.id())) {
            throw new JobCancelledException(0, null);
        }
        FloatTensor prompt = StageMessages.tensor(message, "prompt_embeds");
        FloatTensor negative = request.guided() ? StageMessages.tensor(message, "negative_prompt_embeds") : null;
        if (prompt == null || (request.guided() && negative == null)) {
            throw new PipelineException(ErrorCode.INTERNAL_ERROR, "stage message lacks the prompt embeddings");
        }
        String schedulerName = request.scheduler() != null ? request.scheduler() : defaultScheduler();
        PerImageNoise noise;
        Scheduler scheduler;
        StartLatents start;
        List<String> warnings = List.of();
        if (message.hasCheckpoint()) {
            Checkpoint checkpoint = Checkpoint.fromProto(message.getCheckpoint());
            noise = PerImageNoise.fromStates(checkpoint.noise());
            scheduler = createScheduler(schedulerName, noise);
            scheduler.setTimesteps(request.steps());
            scheduler.restore(checkpoint.scheduler());
            start = new StartLatents(checkpoint.latents(), checkpoint.stepsDone());
            if (!checkpoint.worker().equals(worker.id())) {
                LOG.infof("Resumed %s at step %d of %d from a checkpoint by %s", request.id(), start.index(),
                        scheduler.timesteps().length, checkpoint.worker());
            }
        } else {
            long[] seeds = new long[request.numImages()];
            for (int k = 0; k < seeds.length; k++) {
                seeds[k] = request.seedOf(k);
            }
            noise = new PerImageNoise(seeds);
            scheduler = createScheduler(schedulerName, noise);
            scheduler.setTimesteps(request.steps());
            InitialLatents.Prepared prepared = initialLatents.prepare(request, scheduler, noise, new long[] {
                request.numImages(), LATENT_CHANNELS, request.height() / VAE_DOWNSAMPLE,
                request.width() / VAE_DOWNSAMPLE});
            start = prepared.start();
            warnings = prepared.warnings();
        }

        int every = Math.max(1, config.events().progressEvery());
        int fromStep = start.index();
        boolean[] cancelled = {false};
        DenoisingLoop.Segment segment;
        try {
            segment = denoisingLoop.runSegment(
                    new DenoisingLoop.Inputs(start, prompt, negative, (float) request.guidanceScale()),
                    scheduler,
                    (done, total) -> {
                        if (done % every == 0 || done == total) {
                            events.publishQuietly(GenerationEvent.progress(request.id(), worker.id(), done, total));
                        }
                        // A cancelled request stops here, within one step of the cancel command reaching this worker.
                        if (cancellations.isCancelled(request.id())) {
                            cancelled[0] = true;
                            return false;
                        }
                        return !checkpoints.due(fromStep, done, total) && !handOn.getAsBoolean();
                    });
        } catch (IndexOutOfBoundsException e) {
            throw scheduleError(e, scheduler, schedulerName, request.steps());
        }
        if (cancelled[0] && !segment.finished()) {
            throw new JobCancelledException(segment.stepsDone(), segment.totalSteps());
        }
        long onnxMs = (models.unet().nanosInside() - onnxBefore) / 1_000_000;
        StageMessage.Builder out = message.toBuilder()
                .setRequestJson(RequestParser.toJson(request.withScheduler(schedulerName)))
                .addAllWarnings(warnings)
                .addStages(StageRecord.newBuilder().setStage(Stages.UNET).setWorker(worker.id())
                        .setStartedAtMs(started).setDurationMs(System.currentTimeMillis() - started)
                        .setOnnxMs(onnxMs).setFromStep(fromStep).setToStep(segment.stepsDone()));
        if (segment.finished()) {
            return new Outcome(StageOutput.LATENTS, out.clearCheckpoint().clearTensors()
                    .addTensors(TensorWireCodec.encode("latents", segment.latents())).build());
        }
        Checkpoint checkpoint = new Checkpoint(segment.stepsDone(), segment.latents(), scheduler.snapshot(),
                noise.states(), worker.id());
        if (commits.work(CHANNEL).stopped()) {
            LOG.infof("Checkpointed %s at step %d of %d on shutdown", request.id(), segment.stepsDone(),
                    segment.totalSteps());
        } else if (handOn.getAsBoolean()) {
            LOG.infof("Checkpointed %s at step %d of %d for its partition's next owner", request.id(),
                    segment.stepsDone(), segment.totalSteps());
        }
        return new Outcome(StageOutput.EMBEDDINGS, out.setCheckpoint(checkpoint.toProto()).build());
    }

    /**
     * A schedule that reaches past the model's training timesteps (for example PNDM or DDIM with 1000 steps, whose
     * leading spacing plus steps_offset 1 ends at timestep 1000) fails in diffusers with an index error too; here it
     * becomes a clear invalid_request instead of a model error.
     */
    private RuntimeException scheduleError(IndexOutOfBoundsException e, Scheduler scheduler, String name, int steps) {
        int trained = schedulerConfig.numTrainTimesteps();
        for (double t : scheduler.timesteps()) {
            if (t > trained - 1) {
                return new PipelineException(ErrorCode.INVALID_REQUEST, "steps: " + steps + " steps of " + name
                        + " reach timestep " + (long) t + ", past this model's " + trained
                        + " training timesteps; use fewer steps",
                        List.of(new PipelineException.FieldError("steps", "too many for " + name + " on this model")),
                        e);
            }
        }
        return e;
    }

    /** The model's own sampler (scheduler_config.json _class_name); Euler where we do not have that one. */
    private String defaultScheduler() {
        return Schedulers.defaultName(schedulerConfig).orElse(FALLBACK_SCHEDULER);
    }

    private Scheduler createScheduler(String name, PerImageNoise noise) {
        try {
            return Schedulers.create(name, schedulerConfig, noise);
        } catch (IllegalArgumentException e) {
            throw new PipelineException(ErrorCode.INVALID_REQUEST, e.getMessage(), e);
        }
    }
}
