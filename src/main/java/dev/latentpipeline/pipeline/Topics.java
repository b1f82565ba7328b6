package dev.latentpipeline.pipeline;

import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The pipeline's topics in one place, created at start-up when missing (sd.topics.create). Creating them before
 * the consumers subscribe matters: a consumer that subscribes to a topic that does not exist yet only notices it
 * at its next metadata refresh, minutes later.
 */
@ApplicationScoped
public class Topics {
    private static final Logger LOG = Logger.getLogger(Topics.class);
    /** Tensor messages: a 1024x1024 request with 8 images carries 8x4x128x128 float32 latents, 2 MiB. */
    public static final String TENSOR_MAX_MESSAGE_BYTES = Integer.toString(16 * 1024 * 1024 + 256 * 1024);

    @Inject
    PipelineConfig config;

    @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092")
    String bootstrapServers;

    /**
     * Topic-level settings: tensor topics take large messages and keep them briefly; requests and events keep the
     * default delete policy (no compaction: every event of a request matters, not just its last).
     */
    public static Map<String, String> configs(PipelineConfig.Topics topics, String name) {
        boolean tensors = RequestPriority.topics(topics.embeddings()).contains(name)
                || RequestPriority.topics(topics.latents()).contains(name);
        if (tensors) {
            return Map.of("max.message.bytes", TENSOR_MAX_MESSAGE_BYTES,
                    "retention.ms", Long.toString(topics.tensorRetentionMs()));
        }
        return Map.of("retention.ms", Long.toString(topics.retentionMs()));
    }

    /** sd.previews: only the latest preview per image matters, and only while its job runs. */
    public static final Map<String, String> PREVIEW_CONFIGS = Map.of("cleanup.policy", "compact,delete",
            "retention.ms", "3600000", "segment.ms", "600000", "min.cleanable.dirty.ratio", "0.1");

    /**
     * sd.checkpoints: compacted (the latest state per job), tensor-sized records, segments rolled every 10 minutes
     * so compaction keeps up; end markers and tombstones expire with the tensor retention.
     */
    public static Map<String, String> checkpointConfigs(PipelineConfig.Topics topics) {
        return Map.of("cleanup.policy", "compact,delete",
                "retention.ms", Long.toString(topics.tensorRetentionMs()),
                "max.message.bytes", TENSOR_MAX_MESSAGE_BYTES,
                "segment.ms", "600000",
                "min.cleanable.dirty.ratio", "0.1",
                "delete.retention.ms", "3600000");
    }

    /**
     * Every topic the pipeline uses, with the partition count and settings it is created with here. k8s/topics.yaml
     * declares the same set (a test checks it), with more partitions for a cluster.
     */
    public static List<NewTopic> wanted(PipelineConfig.Topics topics) {
        int partitions = topics.partitions();
        List<NewTopic> wanted = new ArrayList<>();
        // Each stage input in three priorities (pipeline/RequestPriority), then the events.
        List<String> names = new ArrayList<>();
        for (String base : List.of(topics.requests(), topics.embeddings(), topics.latents())) {
            names.addAll(RequestPriority.topics(base));
        }
        names.add(topics.events());
        for (String name : names) {
            wanted.add(new NewTopic(name, Optional.of(partitions), Optional.empty()).configs(configs(topics, name)));
        }
        // In-flight UNet state: one checkpoint partition per sd.embeddings partition of each priority
        // (messaging/SideCheckpoints), which checks the count against the embeddings topics when it starts.
        wanted.add(new NewTopic(topics.checkpoints(),
                Optional.of(partitions * RequestPriority.values().length), Optional.empty())
                .configs(checkpointConfigs(topics)));
        wanted.add(new NewTopic(topics.previews(), Optional.of(partitions), Optional.empty())
                .configs(PREVIEW_CONFIGS));
        // Keyed state (one record per request id is all that matters): compaction keeps these small.
        for (String name : List.of(topics.control(), topics.webhookDeliveries())) {
            wanted.add(new NewTopic(name, Optional.of(partitions), Optional.empty())
                    .configs(Map.of("cleanup.policy", "compact")));
        }
        wanted.add(new NewTopic(topics.webhookDeadLetters(), Optional.of(partitions), Optional.empty())
                .configs(Map.of("retention.ms", Long.toString(topics.retentionMs()))));
        return wanted;
    }

    /** After the embedded broker (priority 10), before the messaging connectors (priority 1000). */
    void create(@Observes @Priority(20) StartupEvent event) {
        if (!config.topics().create()) {
            return;
        }
        List<NewTopic> wanted = wanted(config.topics());
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = wanted.stream().filter(t -> !existing.contains(t.name())).toList();
            if (missing.isEmpty()) {
                return;
            }
            try {
                admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                // Another worker starting at the same moment may have created them first.
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
            LOG.infof("Created topics %s with %d partitions", missing.stream().map(NewTopic::name).toList(),
                    config.topics().partitions());
        } catch (Exception e) {
            throw new IllegalStateException("cannot create the pipeline's topics on " + bootstrapServers
                    + " (set sd.topics.create=false where topics are managed elsewhere): " + e.getMessage(), e);
        }
    }
}
