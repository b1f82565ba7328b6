package dev.latentpipeline.api;

import dev.latentpipeline.api.preview.PreviewStore;
import dev.latentpipeline.api.preview.PreviewView;
import dev.latentpipeline.api.problem.ApiException;
import dev.latentpipeline.api.status.JobStatus;
import dev.latentpipeline.api.status.StatusStore;
import dev.latentpipeline.messaging.CancellationRegistry;
import dev.latentpipeline.pipeline.GenerationEvent;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.storage.ImageStore;
import dev.latentpipeline.wire.Preview;
import io.smallrye.mutiny.Multi;
import java.util.function.Consumer;
import jakarta.ws.rs.DefaultValue;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.eclipse.microprofile.openapi.annotations.Operation;

/** The generation API: submit, status, list, images, live events, cancel. */
@Path(Views.BASE)
@Produces(MediaType.APPLICATION_JSON)
public class GenerationsResource {
    private static final Pattern ID = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$");
    private static final Set<String> STATUSES = Set.of(GenerationEvent.QUEUED, GenerationEvent.ACCEPTED,
            GenerationEvent.ENCODING, GenerationEvent.DENOISING, GenerationEvent.DECODING, GenerationEvent.COMPLETED,
            GenerationEvent.FAILED, GenerationEvent.CANCELLED);
    private static final int MAX_PAGE = 100;

    @Inject
    Submissions submissions;
    @Inject
    StatusStore store;
    @Inject
    PreviewStore previews;
    @Inject
    Views views;
    @Inject
    ImageStore images;
    @Inject
    GatewayPublisher publisher;
    @Inject
    PipelineConfig config;
    @Inject
    ApiKeyFilter auth;
    @Inject
    ApiConfig api;

    @POST
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Submit a generation request (schemas/generation-request.schema.json); 202 with its id")
    public Response submit(byte[] body, @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType,
            @HeaderParam("Idempotency-Key") String idempotencyKey,
            @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization) {
        if (contentType == null || !MediaType.APPLICATION_JSON_TYPE.isCompatible(parse(contentType))) {
            throw ApiException.field(415, "unsupported_media_type", "Content-Type", "must be application/json");
        }
        Submissions.Submitted submitted = submissions.submit(body == null ? new byte[0] : body, idempotencyKey,
                auth.caller(authorization), auth.mayUseHighPriority(authorization));
        String self = Views.BASE + "/" + submitted.id();
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("id", submitted.id());
        answer.put("status", store.get(submitted.id()).map(JobStatus::status).orElse(GenerationEvent.QUEUED));
        answer.put("status_url", self);
        answer.put("events_url", self + "/events");
        Response.ResponseBuilder response = Response.accepted(answer).location(URI.create(self));
        if (submitted.replayed()) {
            response.header("Idempotent-Replayed", "true");
        }
        return response.build();
    }

    private static MediaType parse(String contentType) {
        try {
            return MediaType.valueOf(contentType);
        } catch (IllegalArgumentException e) {
            throw ApiException.field(415, "unsupported_media_type", "Content-Type", "is not a media type");
        }
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "A job's status, progress, queue position, timings, parameters and image URLs")
    public GenerationView get(@PathParam("id") String id) {
        return views.of(job(id));
    }

    @GET
    @Operation(summary = "Recent jobs, newest first; follow next_cursor for the next page")
    public Map<String, Object> list(@QueryParam("limit") String limit, @QueryParam("cursor") String cursor,
            @QueryParam("status") String status) {
        int size = 20;
        if (limit != null) {
            try {
                size = Integer.parseInt(limit);
            } catch (NumberFormatException e) {
                size = -1;
            }
            if (size < 1 || size > MAX_PAGE) {
                throw ApiException.field(400, "invalid_parameter", "limit", "must be an integer from 1 to " + MAX_PAGE);
            }
        }
        if (status != null && !STATUSES.contains(status)) {
            throw ApiException.field(400, "invalid_parameter", "status", "must be one of " + STATUSES);
        }
        JobStatus after = cursor == null ? null : decodeCursor(cursor);
        List<JobStatus> page = store.page(after, size, status);
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("items", page.stream().map(views::of).toList());
        answer.put("next_cursor", page.size() == size ? encodeCursor(page.get(page.size() - 1)) : null);
        return answer;
    }

    private static String encodeCursor(JobStatus last) {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((last.createdAt() + "|" + last.id()).getBytes(StandardCharsets.UTF_8));
    }

    private static JobStatus decodeCursor(String cursor) {
        try {
            String[] parts = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split("\\|", 2);
            Instant.parse(parts[0]);
            if (parts.length != 2 || !ID.matcher(parts[1]).matches()) {
                throw new IllegalArgumentException();
            }
            return JobStatus.cursor(parts[1], parts[0]);
        } catch (RuntimeException e) {
            throw ApiException.field(400, "invalid_parameter", "cursor", "is not a cursor this API gave out");
        }
    }

    @GET
    @Path("/{id}/images/{n}")
    @Produces({"image/png", MediaType.APPLICATION_JSON})
    @Operation(summary = "Image n as PNG; ?redirect=true answers 307 to a presigned URL instead")
    public Response image(@PathParam("id") String id, @PathParam("n") String n,
            @QueryParam("redirect") boolean redirect) {
        JobStatus job = job(id);
        int index;
        try {
            index = Integer.parseInt(n);
        } catch (NumberFormatException e) {
            throw ApiException.field(400, "invalid_parameter", "n", "must be an image index (0, 1, ...)");
        }
        if (!GenerationEvent.COMPLETED.equals(job.status())) {
            throw ApiException.field(409, "not_completed", "id", "generation " + id + " is " + job.status()
                    + ", images exist once it is completed");
        }
        GenerationEvent.StoredImage image = job.images().stream().filter(i -> i.index() == index).findFirst()
                .orElseThrow(() -> ApiException.notFound("generation " + id + " has no image " + n));
        if (redirect) {
            return Response.temporaryRedirect(URI.create(images.presignedGetUrl(image.key(),
                    api.presignTtl()))).build();
        }
        return Response.ok(images.get(image.key()), "image/png")
                .header("Cache-Control", "private, max-age=86400, immutable").build();
    }

    @GET
    @Path("/{id}/events")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @Operation(summary = "Server-sent events: the job's status at each change (named by status), its queue "
            + "position while it waits, and live previews (event \"preview\") while it denoises, until it ends")
    public Multi<OutboundSseEvent> events(@PathParam("id") String id, @Context Sse sse) {
        job(id);
        return Multi.createFrom().<Object>emitter(emitter -> {
            Consumer<Preview> previewWatcher = p -> {
                if (!emitter.isCancelled()) {
                    emitter.emit(PreviewView.of(p));
                }
            };
            previews.watch(id, previewWatcher);
            // The stream ends after the terminal event, once the previews published before it have been read too.
            StatusStream.open(id, store, views, emitter,
                    complete -> previews.caughtUp().whenComplete((ok, e) -> complete.run()),
                    () -> previews.unwatch(id, previewWatcher));
        }).map(item -> item instanceof PreviewView preview
                ? sse.newEventBuilder().name("preview").mediaType(MediaType.APPLICATION_JSON_TYPE)
                        .data(PreviewView.class, preview).build()
                : sse.newEventBuilder().name(((GenerationView) item).status()).id(((GenerationView) item).updatedAt())
                        .mediaType(MediaType.APPLICATION_JSON_TYPE).data(GenerationView.class, (GenerationView) item)
                        .build());
    }

    @GET
    @Path("/{id}/preview")
    @Produces({"image/jpeg", MediaType.APPLICATION_JSON})
    @Operation(summary = "The latest live preview of image ?image=n (0 by default) while the job denoises")
    public Response preview(@PathParam("id") String id, @QueryParam("image") @DefaultValue("0") int image) {
        job(id);
        Preview preview = previews.latest(id, image).orElseThrow(() -> ApiException.notFound("generation " + id
                + " has no preview of image " + image + " (yet: previews come while it denoises)"));
        return Response.ok(preview.getImage().toByteArray(), preview.getContentType())
                .header("Cache-Control", "no-store")
                .header("X-Preview-Step", preview.getStep())
                .header("X-Preview-Total-Steps", preview.getTotalSteps()).build();
    }

    @DELETE
    @Path("/{id}")
    @Operation(summary = "Cancel: stages skip the job, a running denoising loop stops within one step")
    public Response cancel(@PathParam("id") String id) {
        JobStatus job = job(id);
        if (GenerationEvent.CANCELLED.equals(job.status())) {
            return Response.ok(views.of(job)).build();
        }
        if (job.terminal()) {
            throw ApiException.field(409, "already_finished", "id", "generation " + id + " already " + job.status());
        }
        publisher.send(config.topics().control(), id, CancellationRegistry.cancelCommand(id, Instant.now().toString()));
        return Response.accepted(views.of(job)).build();
    }

    private JobStatus job(String id) {
        if (!ID.matcher(id).matches()) {
            throw ApiException.field(400, "invalid_parameter", "id", "is not a generation id");
        }
        if (!store.ready()) {
            throw new ApiException(503, "starting", "the gateway is still reading the job log", List.of(),
                    api.retryAfter());
        }
        return store.get(id).orElseThrow(() -> ApiException.notFound("no generation with id " + id));
    }
}
