package dev.latentpipeline.pipeline;

import io.quarkus.arc.Unremovable;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.IncomingKafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaConnectorIncomingConfiguration;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import io.smallrye.reactive.messaging.kafka.commit.KafkaCommitHandler;
import io.vertx.mutiny.core.Vertx;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Function;
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
    static final Duration MAX_RETRY_DELAY = Duration.ofSeconds(30);
    static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);

    @Inject
    PipelineConfig config;

    private final Map<String, PartitionWork> work = new ConcurrentHashMap<>();
    /** Each channel's consumers (one, unless the channel's {@code partitions} attribute asks for more). */
    private final Map<String, List<Handler>> handlers = new ConcurrentHashMap<>();

    /** The partition bookkeeping of one incoming channel. */
    public PartitionWork work(String channel) {
        return work.computeIfAbsent(channel, PartitionWork::new);
    }

    /**
     * Runs {@code body} for {@code record} as the message in hand on its partition, unless the consumer is stopping
     * or the partition is moving away (then the record is left, uncommitted, for the partition's next owner).
     */
    public void handle(String channel, ConsumerRecord<?, ?> record, Runnable body) {
        PartitionWork partitions = work(channel);
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        long ticket = partitions.tryEnter(partition);
        if (ticket == PartitionWork.NOT_ENTERED) {
            LOG.debugf("Left %s offset %d to the partition's next owner", partition, record.offset());
            return;
        }
        boolean handled = false;
        try {
            body.run();
            handled = true;
        } finally {
            // A body that threw (its failed event could not be published either) is not committed: redelivered.
            partitions.exit(partition, ticket, record.offset(), handled);
        }
    }

    @Override
    public KafkaCommitHandler create(KafkaConnectorIncomingConfiguration configuration, Vertx vertx,
            KafkaConsumer<?, ?> consumer, BiConsumer<Throwable, Boolean> reportFailure) {
        Handler handler = new Handler(vertx, consumer, work(configuration.getChannel()));
        handlers.computeIfAbsent(configuration.getChannel(), c -> new CopyOnWriteArrayList<>()).add(handler);
        return handler;
    }

    /**
     * SIGTERM, before the Kafka connector closes its clients (it closes after ShutdownEvent observers return, so its
     * producers are still there): every channel stops taking messages and pauses, the messages in hand finish (a
     * UNet loop stops at its next step and sends its checkpoint), and their offsets are committed. Bounded by
     * sd.unet.shutdown-grace. The connector's own close is too short for this (about 2 s) to wait for a loop.
     */
    void onStop(@Observes @Priority(1) ShutdownEvent event) {
        if (handlers.isEmpty()) {
            return;
        }
        Duration grace = config.unet().shutdownGrace();
        long deadline = System.nanoTime() + grace.toNanos();
        handlers.forEach((channel, list) -> {
            work(channel).stopTaking();
            list.forEach(Handler::pause);
        });
        handlers.keySet().forEach(channel -> {
            PartitionWork partitions = work(channel);
            int busy = partitions.busy();
            if (busy > 0) {
                LOG.infof("Shutting down: %d message(s) in hand on %s; each finishes or checkpoints at its next step",
                        busy, channel);
                busy = partitions.awaitIdle(deadline);
            }
            if (busy > 0) {
                LOG.warnf("Shutting down with %d message(s) still in hand on %s after %s: they stay uncommitted and "
                        + "another worker handles them again", busy, channel, grace);
            } else {
                LOG.infof("Shutting down: nothing in hand on %s", channel);
            }
            commitNow(channel, Duration.ofNanos(Math.max(1_000_000_000L, deadline - System.nanoTime())));
        });
    }

    /** Commits {@code channel}'s handled offsets and waits for the broker; false when that failed. */
    public boolean commitNow(String channel, Duration timeout) {
        boolean ok = true;
        for (Handler handler : handlers.getOrDefault(channel, List.of())) {
            try {
                Map<TopicPartition, OffsetAndMetadata> committed = handler.onPollingThread(c -> {
                    Map<TopicPartition, OffsetAndMetadata> due = toCommit(
                            handler.assigned(c, work(channel).handledOffsets(null)));
                    if (!due.isEmpty()) {
                        c.commitSync(due, timeout);
                    }
                    return due;
                }).await().atMost(timeout.plusSeconds(5));
                if (!committed.isEmpty()) {
                    Map<TopicPartition, Long> offsets = new HashMap<>();
                    committed.forEach((p, o) -> offsets.put(p, o.offset()));
                    LOG.infof("%s: offsets committed %s", channel, offsets);
                }
            } catch (RuntimeException e) {
                LOG.warnf("%s: could not commit the handled offsets (%s): those messages are handled again", channel,
                        e.toString());
                ok = false;
            }
        }
        return ok;
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
        private Duration retryDelay = RETRY_DELAY;
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

        <R> Uni<R> onPollingThread(Function<Consumer<Object, Object>, R> action) {
            return consumer.runOnPollingThread(action);
        }

        void pause() {
            try {
                consumer.pause().await().atMost(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                // Messages still delivered are left alone once stopping, so this is an optimisation only.
                LOG.debugf("Could not pause a consumer: %s", e.getMessage());
            }
        }

        /** The entries of {@code offsets} for partitions this consumer holds. */
        Map<TopicPartition, Long> assigned(Consumer<Object, Object> kafkaConsumer, Map<TopicPartition, Long> offsets) {
            offsets.keySet().retainAll(kafkaConsumer.assignment());
            return offsets;
        }

        private void commitSoon() {
            if (terminated) {
                return;
            }
            onPollingThread(this::commitOutstanding).subscribe().with(done -> {
            }, e -> LOG.debugf("Could not commit offsets: %s", e.toString()));
        }

        private void commitOutstanding(Consumer<Object, Object> kafkaConsumer) {
            Map<TopicPartition, OffsetAndMetadata> due = due(assigned(kafkaConsumer, partitions.handledOffsets(null)));
            if (due.isEmpty()) {
                return;
            }
            kafkaConsumer.commitAsync(due, (offsets, error) -> {
                if (error == null) {
                    offsets.forEach((p, o) -> committed.merge(p, o.offset(), Math::max));
                    retryDelay = RETRY_DELAY;
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

        /** Retries after 0.5 s (a rebalance ends within that), doubling up to 30 s for errors that persist. */
        private void retryLater(Exception error) {
            if (retryScheduled || terminated) {
                return;
            }
            retryScheduled = true;
            if (retryDelay.equals(RETRY_DELAY)) {
                LOG.infof("Committing offsets failed (%s); retrying in %d ms", error.toString(), retryDelay.toMillis());
            } else {
                LOG.debugf("Committing offsets failed again (%s); retrying in %d ms", error, retryDelay.toMillis());
            }
            long delay = retryDelay.toMillis();
            retryDelay = retryDelay.multipliedBy(2).compareTo(MAX_RETRY_DELAY) > 0 ? MAX_RETRY_DELAY
                    : retryDelay.multipliedBy(2);
            vertx.setTimer(delay, id -> {
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
