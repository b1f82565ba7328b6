package dev.latentpipeline.api.webhook;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jboss.logging.Logger;

/**
 * This replica's share of webhook deliveries: the sd.events partitions a consumer group of all gateway replicas
 * (sd.webhook.group) assigns it. A job's events are keyed by its id, so its terminal event is on one partition, and
 * exactly one live replica holds that partition. The group is used for its assignment only: every partition is paused
 * as soon as it is assigned, so nothing is fetched (the status store reads the events) and no offset is committed.
 * The broker moves a dead replica's partitions to the others after {@code sessionTimeout}; a replica leaving on
 * shutdown hands them over at once, after {@link Listener#revoked} has returned.
 */
final class DeliveryShare implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DeliveryShare.class);

    /** Called on the group's thread, inside the rebalance: the partitions move once these return. */
    interface Listener {
        void assigned(Set<Integer> partitions);

        /** {@code handOver}: the partitions go to another replica now (revoked, not lost), so finish what is in hand. */
        void revoked(Set<Integer> partitions, boolean handOver);
    }

    private final Map<String, Object> config;
    private final String topic;
    private final Listener listener;
    private final Thread thread;
    private volatile KafkaConsumer<String, String> consumer;
    private volatile boolean closed;

    DeliveryShare(String bootstrapServers, String topic, String group, String clientId, Duration sessionTimeout,
            Listener listener) {
        this.topic = topic;
        this.listener = listener;
        this.config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.CLIENT_ID_CONFIG, clientId,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest",
                ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) sessionTimeout.toMillis(),
                ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) Math.max(500, sessionTimeout.toMillis() / 4),
                // Only the partitions that change owner move; the others keep their deliveries going.
                ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        this.thread = new Thread(this::run, "webhook-share");
        this.thread.setDaemon(true);
    }

    DeliveryShare start() {
        thread.start();
        return this;
    }

    private void run() {
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(config, new StringDeserializer(),
                new StringDeserializer())) {
            consumer = c;
            c.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    c.pause(partitions);
                    if (!partitions.isEmpty()) {
                        LOG.infof("Webhooks: this replica now delivers for %s partitions %s", topic,
                                numbers(partitions));
                        listener.assigned(numbers(partitions));
                    }
                }

                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    if (!partitions.isEmpty()) {
                        LOG.infof("Webhooks: handing %s partitions %s to another replica", topic, numbers(partitions));
                        listener.revoked(numbers(partitions), true);
                    }
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    if (!partitions.isEmpty()) {
                        LOG.warnf("Webhooks: lost %s partitions %s (session timed out)", topic, numbers(partitions));
                        listener.revoked(numbers(partitions), false);
                    }
                }
            });
            while (!closed) {
                c.poll(Duration.ofMillis(500)); // every partition is paused: this only keeps the membership
            }
        } catch (WakeupException e) {
            // close() was called; closing the consumer leaves the group, revoking its partitions first.
        } catch (RuntimeException e) {
            LOG.errorf(e, "Webhooks: left the delivery group %s", config.get(ConsumerConfig.GROUP_ID_CONFIG));
        }
    }

    private static Set<Integer> numbers(Collection<TopicPartition> partitions) {
        return partitions.stream().map(TopicPartition::partition).collect(Collectors.toCollection(
                java.util.TreeSet::new));
    }

    /** Leaves the group: revoked() runs for what this replica held, then the others take it over. */
    @Override
    public void close() {
        closed = true;
        KafkaConsumer<String, String> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            thread.join(Duration.ofSeconds(30).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
