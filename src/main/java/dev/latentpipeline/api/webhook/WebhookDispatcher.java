package dev.latentpipeline.api.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentpipeline.api.GatewayPublisher;
import dev.latentpipeline.api.Views;
import dev.latentpipeline.api.status.JobStatus;
import dev.latentpipeline.api.status.StatusStore;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.Role;
import dev.latentpipeline.pipeline.WorkerIdentity;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Calls a job's callback_url once it ends: a signed POST (Standard Webhooks), retried with exponential backoff and
 * jitter until sd.webhook.retry-for after the job ended, then dead-lettered. Each replica delivers only for the
 * sd.events partitions its {@link DeliveryShare} holds, so a job's webhook has one sender however many replicas run.
 * Outcomes are recorded on a compacted topic ({@link DeliveryOutcomes}); a replica that takes a partition over (after
 * a restart, a crash or a rebalance) first reads what was recorded, then delivers every ended job of that partition
 * with a callback and no outcome. At least once: a receiver deduplicates on webhook-id.
 */
@ApplicationScoped
public class WebhookDispatcher implements DeliveryShare.Listener {
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
    @Inject
    WorkerIdentity worker;

    @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092")
    String bootstrapServers;

    /** Partitions the group gave this replica, and those of them whose recorded outcomes have been read. */
    private final Set<Integer> assigned = new HashSet<>();
    private final Set<Integer> owned = new HashSet<>();
    /** Attempts whose answer is awaited, by job id: a partition handed over waits for these. */
    private final Map<String, CompletableFuture<Void>> inHand = new ConcurrentHashMap<>();
    /** Jobs this replica is delivering (an attempt in hand or a retry pending). */
    private final Set<String> scheduled = ConcurrentHashMap.newKeySet();
    private ScheduledExecutorService scheduler;
    private HttpClient http;
    private WebhookSigner signer;
    private CallbackUrlPolicy policy;
    private DeliveryOutcomes outcomes;
    private volatile DeliveryShare share;

    void start(@Observes @Priority(700) StartupEvent event) {
        if (!Role.parse(config.roles()).contains(Role.GATEWAY) || webhook.secret().isEmpty()) {
            return; // a replica without a secret never joins the group, so it never holds webhooks it cannot sign
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
        outcomes = new DeliveryOutcomes(bootstrapServers, config.topics().webhookDeliveries()).start();
        scheduler.execute(() -> {
            try {
                // Joining takes partitions from running replicas: join only once able to deliver for them.
                while (!store.awaitReady(Duration.ofSeconds(10))) {
                    LOG.info("Webhooks: waiting for the job log to be read before joining the delivery group");
                }
            } catch (InterruptedException e) {
                return;
            }
            store.onTerminal(this::consider);
            share = new DeliveryShare(bootstrapServers, config.topics().events(), webhook.group(),
                    "sd-webhooks-" + worker.id(), webhook.sessionTimeout(), this).start();
        });
    }

    /** Before the publisher closes (default priority), so a handed-over partition's outcomes are still recorded. */
    void stop(@Observes @Priority(100) ShutdownEvent event) {
        if (scheduler == null) {
            return;
        }
        DeliveryShare leaving = share;
        if (leaving != null) {
            leaving.close();
        }
        scheduler.shutdownNow();
        outcomes.close();
    }

    @Override
    public void assigned(Set<Integer> partitions) {
        synchronized (this) {
            assigned.addAll(partitions);
        }
        // What the previous owner recorded is on the topic by now (it recorded before letting go): read it first.
        outcomes.sync().thenRunAsync(() -> takeOver(partitions), scheduler);
    }

    private void takeOver(Set<Integer> partitions) {
        synchronized (this) {
            for (int p : partitions) {
                if (assigned.contains(p)) {
                    owned.add(p);
                }
            }
        }
        store.terminalJobs().forEach(job -> {
            OptionalInt partition = store.eventPartition(job.id());
            if (partition.isPresent() && partitions.contains(partition.getAsInt())) {
                consider(job);
            }
        });
    }

    @Override
    public void revoked(Set<Integer> partitions, boolean handOver) {
        List<CompletableFuture<Void>> answers;
        synchronized (this) {
            assigned.removeAll(partitions);
            owned.removeAll(partitions);
            answers = inHand.entrySet().stream().filter(e -> partitions.contains(partitionOf(e.getKey())))
                    .map(Map.Entry::getValue).toList();
        }
        if (!handOver || answers.isEmpty()) {
            return;
        }
        // An attempt in flight may succeed: wait for it to be recorded, or the next owner would send it again.
        try {
            CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
                    .get(webhook.timeout().toMillis() + 5000, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
            LOG.warnf("Webhooks: handing partitions %s over with attempts unanswered", partitions);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private int partitionOf(String id) {
        return store.eventPartition(id).orElse(-1);
    }

    private synchronized boolean owns(String id) {
        return owned.contains(partitionOf(id));
    }

    private void consider(JobStatus job) {
        if (job.request() == null || job.request().callbackUrl() == null || outcomes.finished(job.id())
                || !owns(job.id()) || !scheduled.add(job.id())) {
            return;
        }
        scheduler.execute(() -> attempt(job, 0));
    }

    private void attempt(JobStatus job, int failures) {
        CompletableFuture<Void> answered = new CompletableFuture<>();
        synchronized (this) {
            if (!owned.contains(partitionOf(job.id())) || outcomes.finished(job.id())) {
                scheduled.remove(job.id()); // another replica holds it now
                return;
            }
            inHand.put(job.id(), answered);
        }
        CompletableFuture<Void> sent;
        try {
            sent = send(job, failures);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((ok, error) -> {
            if (error != null) {
                scheduled.remove(job.id());
                LOG.errorf(error, "Webhook for %s stopped", job.id());
            }
            inHand.remove(job.id(), answered);
            answered.complete(null);
        });
    }

    /** One attempt; the future completes once its outcome is recorded or its retry scheduled. */
    private CompletableFuture<Void> send(JobStatus job, int failures) {
        String url = job.request().callbackUrl();
        String refusal = policy.refusal(url).orElse(null);
        if (refusal != null) {
            deadLetter(job, failures, "callback_url " + refusal);
            return CompletableFuture.completedFuture(null);
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
        return http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).handle((response, error) -> {
            if (error == null && response.statusCode() / 100 == 2) {
                record(job.id(), DELIVERED, failures + 1);
            } else {
                retryOrGiveUp(job, failures, error != null
                        ? error.getClass().getSimpleName() + ": " + error.getMessage()
                        : "HTTP " + response.statusCode());
            }
            return null;
        });
    }

    private void retryOrGiveUp(JobStatus job, int failures, String reason) {
        if (!owns(job.id())) {
            scheduled.remove(job.id()); // handed over meanwhile: its next owner retries it
            return;
        }
        Duration delay = backoff(failures);
        if (Instant.now().plus(delay).isAfter(Instant.parse(job.updatedAt()).plus(webhook.retryFor()))) {
            deadLetter(job, failures + 1, reason);
        } else {
            LOG.debugf("Webhook for %s failed (%s); retrying in %s", job.id(), reason, delay);
            scheduler.schedule(() -> attempt(job, failures + 1), delay.toMillis(), TimeUnit.MILLISECONDS);
        }
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
        outcomes.markFinished(id);
        scheduled.remove(id);
        try {
            publisher.send(config.topics().webhookDeliveries(), id, JSON.createObjectNode().put("state", state)
                    .put("attempts", attempts).put("worker", worker.id()).put("time", Instant.now().toString())
                    .toString());
        } catch (RuntimeException e) {
            // Not recorded: the partition's next owner (or this replica after a restart) sends it again.
            LOG.warnf("Webhook outcome for %s (%s) not recorded: %s", id, state, e.getMessage());
        }
    }
}
