package dev.latentpipeline.api;

import dev.latentpipeline.api.problem.ApiException;
import dev.latentpipeline.api.problem.Problem;
import dev.latentpipeline.api.status.StatusStore;
import dev.latentpipeline.api.webhook.CallbackUrlPolicy;
import dev.latentpipeline.api.webhook.WebhookConfig;
import dev.latentpipeline.model.ModelRepository;
import dev.latentpipeline.pipeline.ErrorCode;
import dev.latentpipeline.messaging.EventPublisher;
import dev.latentpipeline.pipeline.GenerationEvent;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.PipelineException;
import dev.latentpipeline.pipeline.RequestLimits;
import dev.latentpipeline.pipeline.RequestParser;
import dev.latentpipeline.pipeline.RequestPriority;
import dev.latentpipeline.pipeline.Stages;
import dev.latentpipeline.pipeline.WorkerIdentity;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * Takes a generation request over HTTP: the same validation as the text-encoder stage (one {@link RequestParser}),
 * then the callback URL policy and the in-flight bound ({@link Admission}); then a queued event and the normalized
 * request on sd.requests, keyed by id.
 */
@ApplicationScoped
public class Submissions {
    private static final Logger LOG = Logger.getLogger(Submissions.class);
    /** Printable ASCII, as the IETF Idempotency-Key draft's examples use; long enough for any UUID form. */
    private static final Pattern IDEMPOTENCY_KEY = Pattern.compile("^[\\x21-\\x7E]{1,255}$");

    @Inject
    PipelineConfig config;
    @Inject
    ApiConfig api;
    @Inject
    WebhookConfig webhooks;
    @Inject
    StatusStore store;
    @Inject
    EventPublisher events;
    @Inject
    GatewayPublisher publisher;
    @Inject
    WorkerIdentity worker;
    @Inject
    Admission admission;
    @Inject
    ModelRepository models;

    private RequestParser parser;
    private CallbackUrlPolicy callbacks;
    private final Set<String> submitting = ConcurrentHashMap.newKeySet();

    @PostConstruct
    void init() {
        parser = new RequestParser(RequestLimits.from(config.limits()), models.family());
        callbacks = new CallbackUrlPolicy(webhooks.allow().orElse(List.of()));
    }

    /** The outcome: the job's id, and whether an earlier submission with the same Idempotency-Key made it. */
    public record Submitted(String id, boolean replayed) {
    }

    /** @param mayUseHighPriority whether the caller may submit high-priority work (sd.api.high-priority-keys) */
    public Submitted submit(byte[] body, String idempotencyKey, String caller, boolean mayUseHighPriority) {
        if (!store.ready()) {
            throw new ApiException(503, "starting", "the gateway is still reading the job log", List.of(),
                    api.retryAfter());
        }
        if (body.length > api.maxBodyBytes()) {
            throw ApiException.field(413, "body_too_large", "(body)",
                    "must be at most " + api.maxBodyBytes() + " bytes, was " + body.length);
        }
        String derivedId = null;
        if (idempotencyKey != null) {
            if (!IDEMPOTENCY_KEY.matcher(idempotencyKey).matches()) {
                throw ApiException.field(400, "invalid_header", "Idempotency-Key",
                        "must be 1 to 255 printable ASCII characters without spaces");
            }
            derivedId = "idem-" + sha256(caller + "\n" + idempotencyKey).substring(0, 40);
        }
        RequestParser.Outcome outcome = parser.parse(derivedId, body);
        if (outcome instanceof RequestParser.Rejected rejected) {
            ErrorCode code = rejected.error().code();
            List<Problem.FieldProblem> fields = rejected.error().fields().stream()
                    .map(f -> new Problem.FieldProblem(f.field(), f.message())).toList();
            if (fields.isEmpty()) {
                fields = List.of(new Problem.FieldProblem("(body)", rejected.error().getMessage()));
            }
            throw new ApiException(400, code.wireName(), rejected.error().getMessage(), fields, null);
        }
        GenerationRequest request = ((RequestParser.Accepted) outcome).request();
        if (request.priority() == RequestPriority.HIGH && !mayUseHighPriority) {
            throw ApiException.field(403, "priority_not_allowed", "priority",
                    "this caller may not submit high-priority work (sd.api.high-priority-keys)");
        }
        if (request.callbackUrl() != null) {
            if (webhooks.secret().isEmpty()) {
                throw ApiException.field(400, "invalid_request", "callback_url",
                        "webhooks are not configured on this deployment (sd.webhook.secret)");
            }
            callbacks.refusal(request.callbackUrl()).ifPresent(reason -> {
                throw ApiException.field(400, "invalid_request", "callback_url", reason);
            });
        }
        if (!submitting.add(request.id())) {
            return replayOrConflict(request.id(), idempotencyKey);
        }
        try {
            if (store.get(request.id()).isPresent()) {
                return replayOrConflict(request.id(), idempotencyKey);
            }
            if (!admission.tryReserve(request.id())) {
                throw new ApiException(429, "too_busy", "the pipeline has " + admission.count()
                        + " unfinished jobs, the most this deployment queues; retry later", List.of(),
                        api.retryAfter());
            }
            GenerationEvent queued = GenerationEvent.queued(request, worker.id());
            try {
                events.publish(queued);
                store.apply(queued);
            } catch (RuntimeException e) {
                throw unavailable(request.id(), e);
            } finally {
                admission.release(request.id()); // counted by the store now, or never queued
            }
            try {
                publisher.send(request.priority().topic(config.topics().requests()), request.id(),
                        RequestParser.toJson(request));
            } catch (RuntimeException e) {
                // Queued but never handed on: end it, or it would wait (and hold a place) for ever.
                failHandOff(request.id(), e);
                throw unavailable(request.id(), e);
            }
            return new Submitted(request.id(), false);
        } finally {
            submitting.remove(request.id());
        }
    }

    private ApiException unavailable(String id, RuntimeException cause) {
        LOG.warnf("Generation %s not submitted: %s", id, cause.getMessage());
        return new ApiException(503, "unavailable", "the gateway cannot reach the message broker; retry later",
                List.of(), api.retryAfter());
    }

    private void failHandOff(String id, RuntimeException cause) {
        GenerationEvent failed = GenerationEvent.failed(id, worker.id(), Stages.GATEWAY, new PipelineException(
                ErrorCode.INTERNAL_ERROR, "the gateway could not hand the request to the pipeline: "
                        + cause.getMessage()));
        try {
            events.publish(failed); // read back like any terminal event, so its webhook is owed as usual
        } catch (RuntimeException e) {
            LOG.errorf("Generation %s stays queued: neither the request nor its failed event reached the broker (%s)",
                    id, e.getMessage());
        }
    }

    private static Submitted replayOrConflict(String id, String idempotencyKey) {
        if (idempotencyKey != null) {
            return new Submitted(id, true);
        }
        throw ApiException.field(409, "conflict", "id", "a generation with id " + id + " already exists");
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
