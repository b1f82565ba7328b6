package dev.latentpipeline.denoise;

import dev.latentpipeline.denoise.img2img.VaeEncoder;
import dev.latentpipeline.denoise.scheduler.Scheduler;
import dev.latentpipeline.denoise.scheduler.SchedulerConfig;
import dev.latentpipeline.denoise.scheduler.Schedulers;
import dev.latentpipeline.model.ModelRepository;
import dev.latentpipeline.model.family.ModelFamily;
import dev.latentpipeline.pipeline.ErrorCode;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.PipelineException;
import dev.latentpipeline.pipeline.StageMessages;
import dev.latentpipeline.pipeline.Stages;
import dev.latentpipeline.pipeline.WorkerIdentity;
import dev.latentpipeline.storage.ImageStore;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.wire.StageRecord;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Stage 2, embeddings to latents, payload in and payload out: prepares each job's start (seeded noise, explicit
 * latents, an encoded init image for img2img, or a checkpoint to resume from) on a preparation thread, then runs
 * it on the {@link DenoisingEngine}, which batches the jobs it holds (sd.unet.max-batch) step by step. Where a job
 * comes from, where its result goes, and when it must stop are the caller's business ({@link JobControl}).
 */
@ApplicationScoped
public class DenoisingStage {
    private static final Logger LOG = Logger.getLogger(DenoisingStage.class);
    static final String FALLBACK_SCHEDULER = "euler";
    /** Prometheus: sd_unet_jobs_per_call (how much batching a worker gets). */
    public static final String JOBS_PER_CALL = "sd.unet.jobs.per.call";

    @Inject
    PipelineConfig config;
    @Inject
    ModelRepository models;
    @Inject
    ImageStore store;
    @Inject
    WorkerIdentity worker;
    @Inject
    MeterRegistry registry;

    private ModelFamily family;
    private UNet unet;
    private DenoisingEngine engine;
    private SchedulerConfig schedulerConfig;
    private InitialLatents initialLatents;
    /** Preparation (storage reads, VAE encoding) runs beside the engine, so it never stalls the running jobs. */
    private ExecutorService preparer;
    /** Opened by the preparation thread on the first img2img job: text-to-image workers never load it. */
    private VaeEncoder vaeEncoder;

    /**
     * What a finished job hands on: the request (its sampler resolved), final latents, and this stage's records, one
     * per segment of the loop (several when it was resumed from a checkpoint).
     */
    public record Denoised(GenerationRequest request, FloatTensor latents, List<StageRecord> records,
            List<String> warnings) {
    }

    /**
     * A job's input: the request, its conditioning tensors by wire name (as on sd.embeddings: prompt_embeds, and
     * whatever else its model family makes), an optional resume point, and optionally the request's explicit initial
     * noise already in hand (null: read {@code request.latents()} from object storage, or draw it from the seeds).
     */
    public record Job(GenerationRequest request, Map<String, FloatTensor> conditioning, Checkpoint resume,
            FloatTensor explicitNoise) {
        public Job(GenerationRequest request, Map<String, FloatTensor> conditioning, Checkpoint resume) {
            this(request, conditioning, resume, null);
        }
    }

    @PostConstruct
    void open() {
        schedulerConfig = SchedulerConfig.fromJson(models.layout().schedulerConfig());
        initialLatents = new InitialLatents(store, this::vaeEncoder);
        family = models.family();
        unet = new UNet(models.unet(), UnetConditioning.inputNames(family.unetInputs(), family.timeCondProjDim()));
        DistributionSummary jobsPerCall = DistributionSummary.builder(JOBS_PER_CALL)
                .description("Jobs that shared one UNet call (continuous batching; 1: the job ran alone)")
                .serviceLevelObjectives(1, 2, 4, 8, 16).register(registry);
        engine = new DenoisingEngine(unet, config.unet().maxBatch(), worker.id())
                .observeCallSizes(jobsPerCall::record).start("unet-engine");
        preparer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "unet-prepare");
            t.setDaemon(true);
            return t;
        });
        LOG.infof("UNet stage: up to %d job(s) per worker, batched step by step%s", engine.maxJobs(),
                unet.timestepPerRow() ? " at any timestep" : " when at the same timestep (the export takes one)");
    }

    @PreDestroy
    void close() {
        preparer.shutdownNow();
        engine.close();
    }

    /** Jobs one worker holds at once. */
    public int maxBatch() {
        return engine.maxJobs();
    }

    /** Changes how many jobs the engine holds from now on (1: no batching); for the benchmark. */
    public void setMaxBatch(int jobs) {
        engine.setMaxJobs(jobs);
    }

    /** Waits at most {@code timeout} for room for one more job and reserves it for the next {@link #submit}. */
    public boolean reserve(Duration timeout) throws InterruptedException {
        return engine.reserve(timeout);
    }

    /** Gives back a reservation that will not be submitted. */
    public void unreserve() {
        engine.unreserve();
    }

    /**
     * Prepares the job and lets it join the engine at its next step; everything that happens to it from here is
     * reported to {@code control}. Call {@link #reserve} first.
     *
     * @param queuedUs how long the job waited before this worker took it (microseconds), for its stage record
     */
    public void submit(Job job, long queuedUs, JobControl control) {
        long startedMs = System.currentTimeMillis();
        long startNanos = System.nanoTime();
        preparer.execute(() -> prepareAndAdd(job, startedMs, startNanos, queuedUs, control));
    }

    /**
     * On the preparation thread. A failure the control wants retried (storage unreachable) is prepared again after
     * its delay, its room kept; the thread prepares other jobs meanwhile.
     */
    private void prepareAndAdd(Job job, long startedMs, long startNanos, long queuedUs, JobControl control) {
        DenoisingJob prepared;
        try {
            prepared = prepare(job, startedMs, startNanos, queuedUs, control);
        } catch (RuntimeException e) {
            Duration retry = control.retryPreparation(e);
            if (retry != null) {
                CompletableFuture.delayedExecutor(retry.toMillis(), TimeUnit.MILLISECONDS, preparer)
                        .execute(() -> prepareAndAdd(job, startedMs, startNanos, queuedUs, control));
                return;
            }
            engine.unreserve();
            control.failed(e);
            return;
        }
        engine.add(prepared);
    }

    private DenoisingJob prepare(Job job, long startedMs, long startNanos, long queuedUs, JobControl control) {
        GenerationRequest request = job.request();
        int factor = family.vaeScaleFactor();
        if (request.width() % factor != 0 || request.height() % factor != 0) {
            throw new PipelineException(ErrorCode.INVALID_REQUEST, "width and height must be multiples of " + factor
                    + " for this model (its VAE's scale factor), got " + request.width() + "x" + request.height(),
                    List.of(new PipelineException.FieldError(request.width() % factor != 0 ? "width" : "height",
                            "must be a multiple of " + factor)), null);
        }
        boolean guided = family.classifierFreeGuidance(request);
        // Built first: a message without the conditioning this family needs fails before any storage read.
        Map<String, FloatTensor> conditioning = UnetConditioning.rows(family.unetInputs(), family.timeCondProjDim(),
                job.conditioning(), guided, request.guidanceScale(), request.numImages());
        String schedulerName = request.scheduler() != null ? request.scheduler() : defaultScheduler();
        GenerationRequest resolved = request.withScheduler(schedulerName);
        PerImageNoise noise;
        Scheduler scheduler;
        StartLatents start;
        List<String> warnings = List.of();
        long storageNanos = 0;
        if (job.resume() != null) {
            Checkpoint checkpoint = job.resume();
            noise = PerImageNoise.fromStates(checkpoint.noise());
            scheduler = createScheduler(schedulerName, noise);
            RequestSchedule.set(scheduler, request);
            scheduler.restore(checkpoint.scheduler());
            start = new StartLatents(checkpoint.latents(), checkpoint.stepsDone());
            LOG.infof("Resumed %s at step %d of %d from a checkpoint by %s", request.id(), start.index(),
                    scheduler.timesteps().length, checkpoint.worker());
        } else {
            long[] seeds = new long[request.numImages()];
            for (int k = 0; k < seeds.length; k++) {
                seeds[k] = request.seedOf(k);
            }
            noise = new PerImageNoise(seeds);
            scheduler = createScheduler(schedulerName, noise);
            RequestSchedule.set(scheduler, request);
            InitialLatents.Prepared prepared = initialLatents.prepare(request, scheduler, noise, new long[] {
                request.numImages(), family.latentChannels(), request.height() / factor, request.width() / factor},
                    job.explicitNoise());
            start = prepared.start();
            warnings = prepared.warnings();
            storageNanos = prepared.storageNanos();
        }
        List<String> notes = warnings;
        int fromStep = start.index();
        long storageUs = storageNanos / 1_000;
        List<StageRecord> earlier = job.resume() == null ? List.of() : job.resume().segments();
        java.util.function.Function<DenoisingJob, List<StageRecord>> segments = running -> {
            List<StageRecord> all = new ArrayList<>(earlier);
            all.add(StageMessages.record(Stages.UNET, worker.id(), startedMs, System.nanoTime() - startNanos,
                    running.onnxNanos).setFromStep(fromStep).setToStep(running.stepsDone()).setQueuedUs(queuedUs)
                    .setStorageUs(storageUs).setLargestBatch(running.largestBatch).build());
            return all;
        };
        return new DenoisingJob(request.id(), control, scheduler, noise, start, guided,
                (float) request.guidanceScale(), conditioning,
                e -> e instanceof IndexOutOfBoundsException bounds ? scheduleError(bounds, scheduler, schedulerName,
                        request.steps()) : e,
                finished -> control.finished(new Denoised(resolved, finished.latents(), segments.apply(finished),
                        notes)),
                segments);
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

    private VaeEncoder vaeEncoder() {
        if (vaeEncoder == null) {
            vaeEncoder = new VaeEncoder(models.vaeEncoder(), family.latentScaling());
        }
        return vaeEncoder;
    }
}
