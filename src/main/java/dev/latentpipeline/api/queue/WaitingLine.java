package dev.latentpipeline.api.queue;

import dev.latentpipeline.api.status.JobStatus;
import dev.latentpipeline.api.status.StatusStore;
import dev.latentpipeline.pipeline.GenerationEvent;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.Role;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Where a job that has not started denoising stands (docs/queue.md). Its line is the jobs running on, or waiting for,
 * the UNet worker that serves its partition ({@link UnetWorkers}). The line is played forward ({@link UnetSchedule}):
 * up to the worker's capacity run at once, the waiting ones start in the order the worker takes them (priority, and
 * the share lower priorities get), each step priced from recent completed jobs ({@link StageCosts}).
 * {@code position} counts the jobs running there and those that start before it; the estimate adds the job's VAE
 * time to the end of its loop.
 * Everything comes from sd.events, so every replica answers the same.
 */
@ApplicationScoped
public class WaitingLine {
    /** States before the job's first denoising step: waiting for the text encoder or for the UNet. */
    public static final Set<String> WAITING = Set.of(GenerationEvent.QUEUED, GenerationEvent.ACCEPTED,
            GenerationEvent.ENCODING);

    /**
     * A waiting job's place: jobs ahead of it, how many jobs its worker runs at once, and (once any job has completed)
     * when it should start and end.
     */
    public record Place(int position, int workerCapacity, Instant startsAt, Instant endsAt) {
    }

    private static final Comparator<JobStatus> FIRST_COME = Comparator.comparing(WaitingLine::arrival)
            .thenComparing(JobStatus::id);

    @Inject
    PipelineConfig config;
    @Inject
    StatusStore store;
    @Inject
    UnetPartitions partitions;

    private final UnetWorkers workers = new UnetWorkers();
    private final StageCosts costs = new StageCosts();

    /** Before the store reads the log (priority 600), so the history teaches workers and costs too. */
    void start(@Observes @Priority(570) StartupEvent event) {
        if (Role.parse(config.roles()).contains(Role.GATEWAY)) {
            store.onChange(this::learn);
        }
    }

    private void learn(JobStatus previous, JobStatus next) {
        if (GenerationEvent.DENOISING.equals(next.status()) && next.worker() != null) {
            input(next).ifPresent(in -> workers.denoised(in, next.worker(), next.workerCapacity()));
        } else if (GenerationEvent.COMPLETED.equals(next.status())) {
            costs.completed(next.request(), next.stages());
        }
    }

    /** Empty once the job has started denoising (or ended), and while the partition count is not known yet. */
    public Optional<Place> of(JobStatus job) {
        if (!WAITING.contains(job.status()) || job.request() == null) {
            return Optional.empty();
        }
        Optional<UnetWorkers.Input> input = input(job);
        if (input.isEmpty()) {
            return Optional.empty();
        }
        String line = lineOf(input.get());
        Instant now = Instant.now();
        StageCosts.Prices prices = costs.prices();
        boolean priced = true;
        List<UnetSchedule.Job> running = new ArrayList<>();
        List<UnetSchedule.Job> waiting = new ArrayList<>();
        List<JobStatus> inFlight = new ArrayList<>(store.inFlightJobs());
        if (inFlight.stream().noneMatch(j -> j.id().equals(job.id()))) {
            inFlight.add(job);
        }
        inFlight.sort(FIRST_COME);
        for (JobStatus other : inFlight) {
            // A loop at its last step has handed its latents on: it waits for the VAE, not in this line.
            boolean isRunning = GenerationEvent.DENOISING.equals(other.status()) && line.equals(other.worker())
                    && other.request() != null && stepsLeft(other) > 0;
            boolean isWaiting = WAITING.contains(other.status())
                    && input(other).map(this::lineOf).filter(line::equals).isPresent();
            if (other.request() == null || !(isRunning || isWaiting)) {
                continue;
            }
            Optional<StageCosts.Estimate> cost = prices.estimate(other.request());
            priced &= cost.isPresent();
            UnetSchedule.Job planned = planned(other, cost, now);
            (isRunning ? running : waiting).add(planned);
        }
        int capacity = workers.capacity(line).orElse(config.unet().maxBatch());
        UnetSchedule.Plan plan = UnetSchedule.play(running, waiting, new UnetSchedule.Rules(capacity,
                config.priority().share(), prices.batchMarginal()));
        int started = plan.startOrder().indexOf(job.id());
        int position = running.size() + (started >= 0 ? started
                : (int) waiting.stream().takeWhile(w -> !w.id().equals(job.id())).count());
        UnetSchedule.Forecast forecast = plan.forecasts().get(job.id());
        if (!priced || forecast == null) {
            return Optional.of(new Place(position, capacity, null, null));
        }
        double vaeMs = prices.estimate(job.request()).orElseThrow().vaeMs();
        return Optional.of(new Place(position, capacity, now.plusMillis(Math.round(forecast.startMs())),
                now.plusMillis(Math.round(forecast.endMs() + vaeMs))));
    }

    /**
     * A job as the schedule sees it. Unpriced (nothing completed yet), every step costs the same and text encoding
     * nothing: the order still comes out, the times do not count.
     */
    private static UnetSchedule.Job planned(JobStatus job, Optional<StageCosts.Estimate> cost, Instant now) {
        GenerationRequest request = job.request();
        double textMs = cost.map(StageCosts.Estimate::textMs).orElse(0.0);
        // It reaches the UNet's input once encoded: the encoding event's time plus the encoder's cost.
        double sentAtMs = textMs;
        if (GenerationEvent.ENCODING.equals(job.status())) {
            Instant encoding = parse(job.updatedAt());
            if (encoding != null) {
                sentAtMs = Duration.between(now, encoding).toNanos() / 1e6 + textMs;
            }
        }
        return new UnetSchedule.Job(job.id(), request.priority().ordinal(), sentAtMs, stepsLeft(job),
                cost.map(StageCosts.Estimate::unetMsPerStep).orElse(1.0), request.width() + "x" + request.height());
    }

    /** The line a partition's jobs wait in: the worker serving it, or the partition itself while none is known. */
    private String lineOf(UnetWorkers.Input input) {
        return workers.serving(input).orElse("unseen " + input);
    }

    private Optional<UnetWorkers.Input> input(JobStatus job) {
        if (job.request() == null) {
            return Optional.empty();
        }
        OptionalInt partition = partitions.of(job.id(), job.request().priority());
        return partition.isEmpty() ? Optional.empty()
                : Optional.of(new UnetWorkers.Input(job.request().priority(), partition.getAsInt()));
    }

    /** When the job's first event was produced; a time that does not parse (a foreign producer) goes last. */
    private static Instant arrival(JobStatus job) {
        Instant at = parse(job.createdAt());
        return at == null ? Instant.MAX : at;
    }

    private static Instant parse(String time) {
        try {
            return time == null ? null : Instant.parse(time);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static int stepsLeft(JobStatus job) {
        if (GenerationEvent.DENOISING.equals(job.status()) && job.totalSteps() != null) {
            return Math.max(0, job.totalSteps() - (job.step() == null ? 0 : job.step()));
        }
        return StageCosts.expectedSteps(job.request());
    }
}
