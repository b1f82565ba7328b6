package dev.latentpipeline.api.queue;

import dev.latentpipeline.api.GatewayPublisher;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.RequestPriority;
import dev.latentpipeline.pipeline.Role;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.utils.Utils;
import org.jboss.logging.Logger;

/**
 * The partition of the UNet's input topic of its priority (sd.embeddings, sd.embeddings.high, sd.embeddings.low) a
 * request id lands on: every stage sends with the request id as key and Kafka's default partitioner, murmur2(key) mod
 * partitions. Computed here rather than taken from the partition of a job's events, because operators may give
 * sd.embeddings more partitions than sd.events (README, "Topics"). The counts come from the producer's metadata at
 * start-up, then every 10 s off the request path.
 */
@ApplicationScoped
public class UnetPartitions {
    private static final Logger LOG = Logger.getLogger(UnetPartitions.class);

    @Inject
    PipelineConfig config;
    @Inject
    GatewayPublisher publisher;

    private final Map<RequestPriority, Integer> counts = new ConcurrentHashMap<>();
    private ScheduledExecutorService refresh;

    /**
     * After the publisher's producer exists (550), before the status store reads the log (600): the history's denoising
     * events place workers on partitions, which needs the count.
     */
    void start(@Observes @Priority(560) StartupEvent event) {
        if (!Role.parse(config.roles()).contains(Role.GATEWAY)) {
            return;
        }
        refresh = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "unet-partitions");
            t.setDaemon(true);
            return t;
        });
        refresh();
        refresh.scheduleWithFixedDelay(this::refresh, 10, 10, TimeUnit.SECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        if (refresh != null) {
            refresh.shutdownNow();
        }
    }

    private void refresh() {
        for (RequestPriority priority : RequestPriority.values()) {
            String topic = priority.topic(config.topics().embeddings());
            try {
                counts.put(priority, publisher.partitionCount(topic));
            } catch (RuntimeException e) {
                LOG.warnf("Cannot read the partition count of %s (%s): queue positions wait for it", topic,
                        e.getMessage());
            }
        }
    }

    /** Empty until the partition count of the priority's topic is known. */
    public OptionalInt of(String requestId, RequestPriority priority) {
        Integer partitions = counts.get(priority);
        return partitions == null || partitions == 0 ? OptionalInt.empty()
                : OptionalInt.of(partition(requestId, partitions));
    }

    /** Kafka's BuiltInPartitioner.partitionForKey over the key's StringSerializer bytes. */
    static int partition(String key, int partitions) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
    }
}
