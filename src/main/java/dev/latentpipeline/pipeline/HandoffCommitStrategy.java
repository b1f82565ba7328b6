package dev.latentpipeline.pipeline;

import io.quarkus.arc.Unremovable;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.IncomingKafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaConnectorIncomingConfiguration;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import io.smallrye.reactive.messaging.kafka.commit.KafkaCommitHandler;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * The stages' commit strategy ({@code commit-strategy=handoff}). Like SmallRye's {@code latest} it commits as soon
 * as a message is handled, so a killed worker leaves at most the message in hand to be redone, and nothing waits
 * for a commit timer ({@code throttled}, Quarkus' default, added about a second per stage hand-off here). Unlike
 * {@code latest}: the offsets come from {@link PartitionWork} (only messages whose output is on the broker); a failed
 * commit is retried until it lands (an asynchronous commit is refused while the group rebalances, and with
 * {@code latest} a partition's last message then stayed uncommitted and was handled again by its next owner); and a
 * partition taken away is committed synchronously once its message in hand is handled, before it moves.
 */
@ApplicationScoped
@Identifier(HandoffCommitStrategy.NAME)
@Unremovable
public class HandoffCommitStrategy implements KafkaCommitHandler.Factory {
    public static final String NAME = "handoff";
    private static final Logger LOG = Logger.getLogger(HandoffCommitStrategy.class);
    static final Duration RETRY_DELAY = Duration.ofMillis(500);
    static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);

    @Inject
    PipelineConfig config;

    private final Map<String, PartitionWork> work = new ConcurrentHashMap<>();
    private final Map<String, Handler> handlers = new ConcurrentHashMap<>();

    /** The partition bookkeeping of one incoming channel. */
    public PartitionWork work(String channel) {
        return work.computeIfAbsent(channel, PartitionWork::new);
    }

    /**
     * Runs {@code body} for {@code record} as the message in hand on its partition, unless the consumer is stopping
     * or the partition is moving away (then the record is left, uncommitted, for the partition's next owner).
     */
    public boolean handle(String channel, ConsumerRecord<?, ?> record, Runnable body) {
        PartitionWork partitions = work(channel);
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        if (!partitions.tryEnter(partition)) {
            LOG.debugf("Left %s offset %d to the partition's next owner", partition, record.offset());
            return false;
        }
        try {
            body.run();
        } finally {
            partitions.exit(partition, record.offset());
        }
        return true;
    }

    @Override
    public KafkaCommitHandler create(KafkaConnectorIncomingConfiguration configuration, Vertx vertx,
            KafkaConsumer<?, ?> consumer, BiConsumer<Throwable, Boolean> reportFailure) {
        Handler handler = new Handler(vertx, consumer, work(configuration.getChannel()));
        handlers.put(configuration.getChannel(), handler);
        return handler;
    }

    /** Commits {@code channel}'s handled offsets and waits for the broker; false when that failed. */
    public boolean commitNow(String channel, Duration timeout) {
        Handler handler = handlers.get(channel);
        Map<TopicPartition, Long> offsets = work(channel).handledOffsets(null);
        if (offsets.isEmpty()) {
            return true;
        }
        if (handler == null) {
            return false;
        }
        try {
            handler.onPollingThread(c -> c.commitSync(toCommit(offsets), timeout)).await()
                    .atMost(timeout.plusSeconds(5));
            LOG.infof("%s: offsets committed %s", channel, offsets);
            return true;
        } catch (RuntimeException e) {
            LOG.warnf("%s: could not commit %s (%s): those messages are handled again", channel, offsets, e);
            return false;
        }
    }

    private static Map<TopicPartition, OffsetAndMetadata> toCommit(Map<TopicPartition, Long> offsets) {
        Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
        offsets.forEach((p, next) -> out.put(p, new OffsetAndMetadata(next)));
        return out;
    }

    /** One per consumer. Everything but {@link #handle} runs on the consumer's polling thread. */
    final class Handler implements KafkaCommitHandler {
        private final Vertx vertx;
        private final KafkaConsumer<Object, Object> consumer;
        private final PartitionWork partitions;
        /** What the broker has acknowledged, per owned partition. */
        private final Map<TopicPartition, Long> committed = new HashMap<>();
        private boolean retryScheduled;
        private volatile boolean terminated;

        @SuppressWarnings("unchecked")
        Handler(Vertx vertx, KafkaConsumer<?, ?> consumer, PartitionWork partitions) {
            this.vertx = vertx;
            this.consumer = (KafkaConsumer<Object, Object>) consumer;
            this.partitions = partitions;
            partitions.trackPartitions();
        }

        /** The acknowledgement of a message: the stage has already recorded it in {@link PartitionWork}. */
        @Override
        public <K, V> Uni<Void> handle(IncomingKafkaRecord<K, V> record) {
            commitSoon();
            return Uni.createFrom().voidItem().runSubscriptionOn(record::runOnMessageContext);
        }

        Uni<Void> onPollingThread(java.util.function.Consumer<Consumer<Object, Object>> action) {
            return consumer.runOnPollingThread(action);
        }

        private void commitSoon() {
            if (terminated) {
                return;
            }
            onPollingThread(this::commitOutstanding).subscribe().with(done -> {
            }, e -> LOG.debugf("Could not commit offsets: %s", e.toString()));
        }

        private void commitOutstanding(Consumer<Object, Object> kafkaConsumer) {
            Map<TopicPartition, OffsetAndMetadata> due = due(partitions.handledOffsets(null));
            if (due.isEmpty()) {
                return;
            }
            kafkaConsumer.commitAsync(due, (offsets, error) -> {
                if (error == null) {
                    offsets.forEach((p, o) -> committed.merge(p, o.offset(), Math::max));
                } else {
                    retryLater(error);
                }
            });
        }

        private Map<TopicPartition, OffsetAndMetadata> due(Map<TopicPartition, Long> handled) {
            Map<TopicPartition, Long> out = new HashMap<>();
            handled.forEach((p, next) -> {
                if (next > committed.getOrDefault(p, -1L)) {
                    out.put(p, next);
                }
            });
            return toCommit(out);
        }

        private void retryLater(Exception error) {
            if (retryScheduled || terminated) {
                return;
            }
            retryScheduled = true;
            LOG.infof("Committing offsets failed (%s); retrying in %d ms", error.toString(), RETRY_DELAY.toMillis());
            vertx.setTimer(RETRY_DELAY.toMillis(), id -> {
                if (!terminated) {
                    onPollingThread(c -> {
                        retryScheduled = false;
                        commitOutstanding(c);
                    }).subscribe().with(done -> {
                    }, e -> LOG.debugf("Could not retry the commit: %s", e.toString()));
                }
            });
        }

        @Override
        public void partitionsAssigned(Collection<TopicPartition> assigned) {
            assigned.forEach(committed::remove);
            partitions.assigned(assigned);
        }

        /** Called inside the rebalance (or the consumer's close), before the partitions can go to another worker. */
        @Override
        public void partitionsRevoked(Collection<TopicPartition> revoked) {
            try {
                Map<TopicPartition, OffsetAndMetadata> due = due(
                        partitions.revoke(revoked, config.unet().shutdownGrace()));
                if (!due.isEmpty()) {
                    consumer.unwrap().commitSync(due, COMMIT_TIMEOUT);
                }
            } catch (KafkaException e) {
                LOG.warnf("Could not commit %s before they moved (%s): their last messages are handled again",
                        revoked, e.toString());
            } finally {
                partitions.released(revoked);
                revoked.forEach(committed::remove);
            }
        }

        @Override
        public void terminate(boolean graceful) {
            terminated = true;
        }
    }
}
