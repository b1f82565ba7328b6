package dev.latentpipeline.denoise;

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
import java.util.function.BiConsumer;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * The commit strategy of sd.embeddings ({@code commit-strategy=unet-handoff}). Like SmallRye's {@code latest} it
 * commits as soon as a message is handled, so a killed worker leaves at most the message in hand to be redone.
 * Unlike it, the offsets come from {@link UnetHandoff} (only messages whose output is on the broker), a failed
 * commit is retried until it lands (an asynchronous commit fails while the group rebalances; with {@code latest}
 * the last message of a partition then stayed uncommitted and was run again by the partition's next owner), and a
 * partition taken away is committed synchronously after its loop has checkpointed, before it moves.
 */
@ApplicationScoped
@Identifier(UnetOffsetCommits.STRATEGY)
@Unremovable
public class UnetOffsetCommits implements KafkaCommitHandler.Factory {
    public static final String STRATEGY = "unet-handoff";
    private static final Logger LOG = Logger.getLogger(UnetOffsetCommits.class);
    static final Duration RETRY_DELAY = Duration.ofMillis(500);
    static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);

    @Inject
    UnetHandoff handoff;

    private volatile Handler current;

    @Override
    public KafkaCommitHandler create(KafkaConnectorIncomingConfiguration config, Vertx vertx,
            KafkaConsumer<?, ?> consumer, BiConsumer<Throwable, Boolean> reportFailure) {
        Handler handler = new Handler(vertx, consumer);
        current = handler;
        return handler;
    }

    /** Commits {@code offsets} and waits for the broker; false when that failed or there is no consumer. */
    boolean commitNow(Map<TopicPartition, Long> offsets, Duration timeout) {
        Handler handler = current;
        if (handler == null) {
            return false;
        }
        try {
            handler.onPollingThread(c -> c.commitSync(toCommit(offsets), timeout)).await().atMost(timeout.plusSeconds(5));
            return true;
        } catch (RuntimeException e) {
            LOG.warnf("Could not commit %s: %s", offsets, e.toString());
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
        /** What the broker has acknowledged, per owned partition. */
        private final Map<TopicPartition, Long> committed = new HashMap<>();
        private boolean retryScheduled;
        private volatile boolean terminated;

        @SuppressWarnings("unchecked")
        Handler(Vertx vertx, KafkaConsumer<?, ?> consumer) {
            this.vertx = vertx;
            this.consumer = (KafkaConsumer<Object, Object>) consumer;
        }

        /** The acknowledgement of a message: the stage has already recorded it in {@link UnetHandoff}. */
        @Override
        public <K, V> Uni<Void> handle(IncomingKafkaRecord<K, V> record) {
            commitSoon();
            return Uni.createFrom().voidItem().runSubscriptionOn(record::runOnMessageContext);
        }

        private Uni<Void> onPollingThread(java.util.function.Consumer<Consumer<Object, Object>> action) {
            return consumer.runOnPollingThread(action);
        }

        private void commitSoon() {
            if (terminated) {
                return;
            }
            onPollingThread(this::commitOutstanding).subscribe().with(
                    done -> {
                    }, e -> LOG.debugf("Could not commit UNet offsets: %s", e.toString()));
        }

        private void commitOutstanding(Consumer<Object, Object> kafkaConsumer) {
            Map<TopicPartition, OffsetAndMetadata> due = due(handoff.handledOffsets(null));
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
            LOG.infof("Committing UNet offsets failed (%s); retrying in %d ms", error.toString(),
                    RETRY_DELAY.toMillis());
            vertx.setTimer(RETRY_DELAY.toMillis(), id -> {
                if (!terminated) {
                    onPollingThread(c -> {
                        retryScheduled = false;
                        commitOutstanding(c);
                    }).subscribe().with(done -> {
                    }, e -> LOG.debugf("Could not retry the UNet commit: %s", e.toString()));
                }
            });
        }

        @Override
        public void partitionsAssigned(Collection<TopicPartition> partitions) {
            partitions.forEach(committed::remove);
            handoff.assigned(partitions);
        }

        /** Called inside the rebalance (or close), before the partitions can go to another worker. */
        @Override
        public void partitionsRevoked(Collection<TopicPartition> partitions) {
            try {
                Map<TopicPartition, OffsetAndMetadata> due = due(handoff.revoke(partitions));
                if (!due.isEmpty()) {
                    consumer.unwrap().commitSync(due, COMMIT_TIMEOUT);
                }
            } catch (KafkaException e) {
                LOG.warnf("Could not commit %s before they moved: %s; their last messages run again", partitions,
                        e.toString());
            } finally {
                handoff.released(partitions);
                partitions.forEach(committed::remove);
            }
        }

        @Override
        public void terminate(boolean graceful) {
            terminated = true;
        }
    }
}
