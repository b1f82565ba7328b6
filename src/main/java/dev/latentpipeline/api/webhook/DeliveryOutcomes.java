package dev.latentpipeline.api.webhook;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jboss.logging.Logger;

/**
 * Which jobs' webhooks have an outcome (delivered or dead), read from the compacted sd.webhook-deliveries from its
 * beginning and then followed. {@link #sync} answers once everything on the topic at the moment of the call has been
 * read: a replica taking over a partition calls it before delivering, so it sees what the previous owner recorded.
 */
final class DeliveryOutcomes implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DeliveryOutcomes.class);

    private record Sync(CompletableFuture<Void> done, Map<TopicPartition, Long> until) {
    }

    private final String bootstrapServers;
    private final String topic;
    private final Set<String> finished = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<CompletableFuture<Void>> requested = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile KafkaConsumer<String, String> consumer;
    private volatile boolean closed;

    DeliveryOutcomes(String bootstrapServers, String topic) {
        this.bootstrapServers = bootstrapServers;
        this.topic = topic;
        this.thread = new Thread(this::run, "webhook-outcomes");
        this.thread.setDaemon(true);
    }

    DeliveryOutcomes start() {
        thread.start();
        return this;
    }

    boolean finished(String id) {
        return finished.contains(id);
    }

    /** This replica recorded an outcome: known at once, before it is read back. */
    void markFinished(String id) {
        finished.add(id);
    }

    /** Completes when every record on the topic now has been read. */
    CompletableFuture<Void> sync() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        requested.add(done);
        return done;
    }

    private void run() {
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100"), new StringDeserializer(), new StringDeserializer())) {
            consumer = c;
            List<TopicPartition> partitions = partitions(c);
            c.assign(partitions);
            c.seekToBeginning(partitions);
            List<Sync> pending = new ArrayList<>();
            while (!closed) {
                for (CompletableFuture<Void> done; (done = requested.poll()) != null; ) {
                    pending.add(new Sync(done, c.endOffsets(partitions)));
                }
                for (ConsumerRecord<String, String> record : c.poll(Duration.ofMillis(pending.isEmpty() ? 200 : 20))) {
                    if (record.key() != null && record.value() != null) {
                        finished.add(record.key());
                    }
                }
                pending.removeIf(sync -> {
                    boolean reached = sync.until().entrySet().stream()
                            .allMatch(e -> c.position(e.getKey()) >= e.getValue());
                    if (reached) {
                        sync.done().complete(null);
                    }
                    return reached;
                });
            }
        } catch (WakeupException e) {
            // close() was called.
        } catch (RuntimeException e) {
            LOG.errorf(e, "Stopped reading %s", topic);
        }
    }

    private List<TopicPartition> partitions(KafkaConsumer<String, String> c) {
        while (!closed) {
            List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(30));
            if (infos != null && !infos.isEmpty()) {
                return infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            }
            LOG.infof("Waiting for topic %s to exist", topic);
        }
        return List.of();
    }

    @Override
    public void close() {
        closed = true;
        KafkaConsumer<String, String> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
