package dev.latentpipeline.api;

import dev.latentpipeline.api.queue.WaitingLine;
import dev.latentpipeline.api.status.JobStatus;
import dev.latentpipeline.pipeline.GenerationEvent;
import dev.latentpipeline.storage.ImageStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.List;

/**
 * Turns a job's status into what the API shows: its place in line while it waits, fresh presigned image URLs once
 * it has completed.
 */
@ApplicationScoped
public class Views {
    public static final String BASE = "/v1/generations";

    @Inject
    WaitingLine line;
    @Inject
    ImageStore images;
    @Inject
    ApiConfig api;

    public GenerationView of(JobStatus job) {
        GenerationView.Progress progress = job.totalSteps() == null ? null
                : new GenerationView.Progress(job.step() == null ? 0 : job.step(), job.totalSteps());
        List<GenerationView.Image> shown = null;
        if (GenerationEvent.COMPLETED.equals(job.status()) && job.images() != null) {
            String expires = Instant.now().plus(api.presignTtl()).toString();
            shown = job.images().stream().map(i -> new GenerationView.Image(i.index(), i.seed(), i.width(),
                    i.height(), images.presignedGetUrl(i.key(), api.presignTtl()), expires,
                    BASE + "/" + job.id() + "/images/" + i.index())).toList();
        }
        WaitingLine.Place place = line.of(job).orElse(null);
        GenerationView.Eta eta = place == null || place.startsAt() == null ? null
                : new GenerationView.Eta(place.startsAt().toString(), place.endsAt().toString());
        return new GenerationView(job.id(), job.status(), job.stage(), job.createdAt(), job.updatedAt(), progress,
                place == null ? null : place.position(), place == null ? null : place.workerCapacity(), eta,
                job.request(), shown, job.stages(), job.warnings(),
                job.error(), new GenerationView.Links(BASE + "/" + job.id(), BASE + "/" + job.id() + "/events"));
    }
}
