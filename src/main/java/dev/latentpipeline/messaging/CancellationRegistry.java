package dev.latentpipeline.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import dev.latentpipeline.pipeline.LogTail;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.Role;

/**
 * The ids of cancelled requests, read from the control topic (sd.control, compacted, keyed by request id) from its
 * beginning, so a worker that starts late still skips work cancelled before it started. Stages ask it before each
 * piece of work and the denoising loop after each step.
 */
@ApplicationScoped
public class CancellationRegistry {
    private static final Logger LOG = Logger.getLogger(CancellationRegistry.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String CANCEL = "cancel";

    @Inject
    PipelineConfig config;

    @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092")
    String bootstrapServers;

    private final Set<String> cancelled = ConcurrentHashMap.newKeySet();
    private LogTail tail;

    /** After the topics exist (priority 20), before the stages load their models (500) and consume (1000). */
    void start(@Observes @Priority(400) StartupEvent event) throws InterruptedException {
        if (Role.parse(config.roles()).stream().noneMatch(Role::isStage)) {
            return;
        }
        tail = new LogTail(bootstrapServers, config.topics().control(), this::apply).start();
        if (!tail.awaitCaughtUp(Duration.ofSeconds(60))) {
            LOG.warnf("Cancellations on %s not fully read after 60 s; reading on in the background",
                    config.topics().control());
        }
    }

    void stop(@Observes ShutdownEvent event) {
        if (tail != null) {
            tail.close();
        }
    }

    private void apply(ConsumerRecord<String, String> record) {
        if (record.key() == null || record.value() == null) {
            return;
        }
        try {
            JsonNode command = JSON.readTree(record.value());
            if (CANCEL.equals(command.path("type").asText())) {
                cancelled.add(record.key());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public boolean isCancelled(String requestId) {
        return requestId != null && cancelled.contains(requestId);
    }

    /** The control record a cancel request is: JSON, keyed by the request id. */
    public static String cancelCommand(String requestId, String time) {
        return JSON.createObjectNode().put("type", CANCEL).put("request_id", requestId).put("time", time).toString();
    }
}
