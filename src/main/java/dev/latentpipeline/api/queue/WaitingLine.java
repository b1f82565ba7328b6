package dev.latentpipeline.api.queue;

import dev.latentpipeline.api.status.JobStatus;
import dev.latentpipeline.api.status.StatusStore;
import dev.latentpipeline.pipeline.GenerationEvent;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.Role;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Where a job that has not started denoising stands (README, "Queue position and ETA"). Its line is the jobs not yet
 * through the UNet on the partitions of sd.embeddings that the UNet worker serving its own partition serves
 * ({@link UnetWorkers}); every stage takes a partition in order, so the jobs that arrived before it on those
 * partitions are ahead of it. {@code position} counts them, the one being denoised included. The estimate plays the
 * line forward in turns ({@link Turns}) at the stage costs of recent completed jobs ({@link StageCosts}), then adds
 * the VAE's cost. Everything comes from sd.events, so every replica answers the same.
 */
@ApplicationScoped
public class WaitingLine {
    /** States before the job's first denoising step: waiting for the text encoder or for the UNet. */
    public static final Set<String> WAITING = Set.of(GenerationEvent.QUEUED, GenerationEvent.ACCEPTED,
            GenerationEvent.ENCODING);

    /** A waiting job's place: jobs ahead of it and, once any job has completed, when it should start and end. */
    public record Place(int position, Instant startsAt, Instant endsAt) {
    }

    private record Arrival(Instant at, JobStatus job) {
    }

    private static final Comparator<Arrival> FIRST_COME = Comparator.comparing(Arrival::at)
            .thenComparing(a -> a.job().id());

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
            partitions.of(next.id()).ifPresent(p -> workers.denoised(p, next.worker()));
        } else if (GenerationEvent.COMPLETED.equals(next.status())) {
            costs.completed(next.request(), next.stages());
        }
    }

    /** Empty once the job has started denoising (or ended), and while the partition count is not known yet. */
    public Optional<Place> of(JobStatus job) {
        if (!WAITING.contains(job.status()) || job.request() == null) {
            return Optional.empty();
        }
        OptionalInt partition = partitions.of(job.id());
        if (partition.isEmpty()) {
            return Optional.empty();
        }
        Set<Integer> served = workers.sameWorkerAs(partition.getAsInt());
        Arrival self = new Arrival(arrival(job), job);
        List<Arrival> line = new ArrayList<>();
        for (JobStatus other : store.inFlightJobs()) {
            boolean inLine = WAITING.contains(other.status()) || GenerationEvent.DENOISING.equals(other.status());
            if (inLine && other.request() != null && !other.id().equals(job.id())
                    && served.contains(partitions.of(other.id()).orElse(-1))) {
                line.add(new Arrival(arrival(other), other));
            }
        }
        line.add(self);
        line.sort(FIRST_COME);
        int position = line.indexOf(self);
        return Optional.of(estimate(line, job, position));
    }

    private Place estimate(List<Arrival> line, JobStatus job, int position) {
        List<Turns.InLine> turns = new ArrayList<>(line.size());
        for (Arrival a : line) {
            Optional<StageCosts.Estimate> cost = costs.estimate(a.job().request());
            if (cost.isEmpty()) {
                return new Place(position, null, null);
            }
            turns.add(new Turns.InLine(a.job().id(), stepsLeft(a.job()), cost.get().unetMsPerStep()));
        }
        Optional<Turns.Forecast> forecast = Turns.of(turns, job.id(), costs.stepsPerTurn());
        StageCosts.Estimate own = costs.estimate(job.request()).orElseThrow();
        if (forecast.isEmpty()) {
            return new Place(position, null, null);
        }
        // A job still waiting for the text encoder enters the UNet's line only once encoded.
        double encoding = GenerationEvent.QUEUED.equals(job.status())
                ? Math.max(0, own.textMs() - forecast.get().startMs()) : 0;
        Instant now = Instant.now();
        return new Place(position, now.plusMillis(Math.round(forecast.get().startMs() + encoding)),
                now.plusMillis(Math.round(forecast.get().endMs() + encoding + own.vaeMs())));
    }

    /** When the job's first event was produced; a time that does not parse (a foreign producer) goes last. */
    private static Instant arrival(JobStatus job) {
        try {
            return Instant.parse(job.createdAt());
        } catch (RuntimeException e) {
            return Instant.MAX;
        }
    }

    private static int stepsLeft(JobStatus job) {
        if (GenerationEvent.DENOISING.equals(job.status()) && job.totalSteps() != null) {
            return Math.max(0, job.totalSteps() - (job.step() == null ? 0 : job.step()));
        }
        return StageCosts.expectedSteps(job.request());
    }
}
