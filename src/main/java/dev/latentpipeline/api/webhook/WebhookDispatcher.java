package dev.latentpipeline.api.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentpipeline.api.GatewayPublisher;
import dev.latentpipeline.api.Views;
import dev.latentpipeline.api.status.JobStatus;
import dev.latentpipeline.api.status.StatusStore;
import dev.latentpipeline.pipeline.LogTail;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.Role;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Calls a job's callback_url once it ends: a signed POST (Standard Webhooks), retried with exponential backoff and
 * jitter until sd.webhook.retry-for after the job ended, then dead-lettered. Outcomes go to a compacted topic read
 * back at start-up, and undelivered terminal jobs come from the status store, so a restart loses no webhook
 * (at least once: a receiver deduplicates on webhook-id).
 */
@ApplicationScoped
public class WebhookDispatcher {
    private static final Logger LOG = Logger.getLogger(WebhookDispatcher.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String DELIVERED = "delivered";
    public static final String DEAD = "dead";

    @Inject
    WebhookConfig webhook;
    @Inject
    PipelineConfig config;
    @Inject
    StatusStore store;
    @Inject
    Views views;
    @Inject
    GatewayPublisher publisher;

    @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092")
    String bootstrapServers;

    private final Set<String> finished = ConcurrentHashMap.newKeySet();
    private final Set<String> scheduled = ConcurrentHashMap.newKeySet();
    private ScheduledExecutorService scheduler;
    private HttpClient http;
    private WebhookSigner signer;
    private CallbackUrlPolicy policy;
    private LogTail outcomes;

    void start(@Observes @Priority(700) StartupEvent event) {
        if (!Role.parse(config.roles()).contains(Role.GATEWAY) || webhook.secret().isEmpty()) {
            return;
        }
        signer = new WebhookSigner(webhook.secret().get());
        policy = new CallbackUrlPolicy(webhook.allow().orElse(List.of()));
        // No redirects: a redirect to an internal address would get round the callback URL policy.
        http = HttpClient.newBuilder().connectTimeout(webhook.timeout()).followRedirects(HttpClient.Redirect.NEVER)
                .build();
        scheduler = Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, "webhooks");
            t.setDaemon(true);
            return t;
        });
        outcomes = new LogTail(bootstrapServers, config.topics().webhookDeliveries(),
                r -> finished.add(r.key())).start();
        scheduler.execute(() -> {
            try {
                while (!outcomes.awaitCaughtUp(Duration.ofSeconds(10))) {
                    LOG.info("Waiting for webhook outcomes to be read");
                }
            } catch (InterruptedException e) {
                return;
            }
            store.onTerminal(this::consider);
            store.terminalJobs().forEach(this::consider);
        });
    }

    void stop(@Observes ShutdownEvent event) {
        if (scheduler != null) {
            scheduler.shutdownNow();
            outcomes.close();
        }
    }

    private void consider(JobStatus job) {
        if (job.request() == null || job.request().callbackUrl() == null || finished.contains(job.id())
                || !scheduled.add(job.id())) {
            return;
        }
        scheduler.execute(() -> attempt(job, 0));
    }

    private void attempt(JobStatus job, int failures) {
        Instant deadline = Instant.parse(job.updatedAt()).plus(webhook.retryFor());
        String url = job.request().callbackUrl();
        String refusal = policy.refusal(url).orElse(null);
        if (refusal != null) {
            deadLetter(job, failures, "callback_url " + refusal);
            return;
        }
        String messageId = "msg_" + job.id();
        long timestamp = Instant.now().getEpochSecond();
        String body = payload(job);
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(webhook.timeout())
                .header("Content-Type", "application/json")
                .header("User-Agent", "latent-pipeline-webhooks")
                .header("webhook-id", messageId)
                .header("webhook-timestamp", Long.toString(timestamp))
                .header("webhook-signature", signer.sign(messageId, timestamp, body))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((response, error) -> {
            if (error == null && response.statusCode() / 100 == 2) {
                record(job.id(), DELIVERED, failures + 1);
                return;
            }
            String reason = error != null ? error.getClass().getSimpleName() + ": " + error.getMessage()
                    : "HTTP " + response.statusCode();
            Duration delay = backoff(failures);
            if (Instant.now().plus(delay).isAfter(deadline)) {
                deadLetter(job, failures + 1, reason);
            } else {
                LOG.debugf("Webhook for %s failed (%s); retrying in %s", job.id(), reason, delay);
                scheduler.schedule(() -> attempt(job, failures + 1), delay.toMillis(), TimeUnit.MILLISECONDS);
            }
        });
    }

    /** initial * 2^failures, capped, then between half and all of it at random so receivers are not stampeded. */
    Duration backoff(int failures) {
        long base = Math.min(webhook.maxBackoff().toMillis(),
                webhook.initialBackoff().toMillis() << Math.min(failures, 30));
        return Duration.ofMillis(base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1));
    }

    private String payload(JobStatus job) {
        ObjectNode payload = JSON.createObjectNode();
        payload.put("type", "generation." + job.status());
        payload.put("timestamp", Instant.now().toString());
        payload.set("data", JSON.valueToTree(views.of(job)));
        return payload.toString();
    }

    private void deadLetter(JobStatus job, int attempts, String reason) {
        LOG.warnf("Webhook for %s dead-lettered after %d attempts: %s", job.id(), attempts, reason);
        ObjectNode dead = JSON.createObjectNode();
        dead.put("request_id", job.id());
        dead.put("webhook_id", "msg_" + job.id());
        dead.put("url", job.request().callbackUrl());
        dead.put("attempts", attempts);
        dead.put("last_error", reason);
        dead.put("time", Instant.now().toString());
        dead.set("payload", JSON.valueToTree(views.of(job)));
        try {
            publisher.send(config.topics().webhookDeadLetters(), job.id(), JSON.writeValueAsString(dead));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        record(job.id(), DEAD, attempts);
    }

    private void record(String id, String state, int attempts) {
        publisher.send(config.topics().webhookDeliveries(), id, JSON.createObjectNode().put("state", state)
                .put("attempts", attempts).put("time", Instant.now().toString()).toString());
        finished.add(id);
        scheduled.remove(id);
    }
}
