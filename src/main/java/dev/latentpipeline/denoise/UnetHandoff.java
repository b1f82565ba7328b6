package dev.latentpipeline.denoise;

import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.Role;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.IntSupplier;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * How a UNet worker hands its work on without doing any of it twice: when the group moves a partition to another
 * worker (one joined, scale-out) and when the worker stops (SIGTERM). In both cases the loop in flight on an
 * affected partition stops at its next step and sends its checkpoint, and only the offsets of messages whose
 * output is on the broker are committed ({@link UnetOffsetCommits}), before the partition's next owner reads it.
 * A message that arrives for a partition this worker no longer works on is left alone and never committed.
 */
@ApplicationScoped
public class UnetHandoff {
    private static final Logger LOG = Logger.getLogger(UnetHandoff.class);
    static final String CHANNEL = "embeddings";

    @Inject
    PipelineConfig config;
    @Inject
    KafkaClientService kafka;
    @Inject
    @Identifier(UnetOffsetCommits.STRATEGY)
    UnetOffsetCommits commits;

    /** All of these are guarded by {@code this}. */
    private boolean draining;
    private final Set<TopicPartition> owned = new HashSet<>();
    private final Set<TopicPartition> revoking = new HashSet<>();
    private final Map<TopicPartition, Integer> inFlight = new HashMap<>();
    /** Next offset to commit per partition: one past the last message handled while this worker owned it. */
    private final Map<TopicPartition, Long> handled = new HashMap<>();

    /** True from SIGTERM on: loops checkpoint at their next step, new messages are left for the next owner. */
    public synchronized boolean draining() {
        return draining;
    }

    /** Whether a loop working on {@code partition} should stop at this step and hand its request on. */
    public synchronized boolean mustYield(TopicPartition partition) {
        return draining || revoking.contains(partition);
    }

    /**
     * Counts a message as in flight, unless this worker is stopping or no longer (or not yet) owns its partition:
     * then the caller must leave the message alone.
     */
    public synchronized boolean tryEnter(TopicPartition partition) {
        if (draining || revoking.contains(partition) || !owned.contains(partition)) {
            return false;
        }
        inFlight.merge(partition, 1, Integer::sum);
        return true;
    }

    /** Ends what {@link #tryEnter} started. {@code handledOffset} is the message's offset, its output on the broker. */
    public synchronized void exit(TopicPartition partition, long handledOffset) {
        if (owned.contains(partition)) {
            handled.merge(partition, handledOffset + 1, Math::max);
        }
        inFlight.merge(partition, -1, Integer::sum);
        notifyAll();
    }

    /** Offsets of handled messages on the given partitions (all owned ones when {@code null}). */
    synchronized Map<TopicPartition, Long> handledOffsets(Collection<TopicPartition> partitions) {
        Map<TopicPartition, Long> out = new HashMap<>();
        handled.forEach((p, next) -> {
            if (owned.contains(p) && (partitions == null || partitions.contains(p))) {
                out.put(p, next);
            }
        });
        return out;
    }

    /** The group gave this worker these partitions; anything remembered about them from an earlier turn is stale. */
    synchronized void assigned(Collection<TopicPartition> partitions) {
        owned.addAll(partitions);
        partitions.forEach(handled::remove);
    }

    /**
     * The group takes these partitions away (on the consumer's polling thread, before it rejoins): loops on them
     * stop at their next step and send their checkpoints. Returns the handled offsets to commit before the
     * partitions go; the caller commits them and then calls {@link #released}.
     */
    Map<TopicPartition, Long> revoke(Collection<TopicPartition> partitions) {
        return revoke(partitions, config.unet().shutdownGrace());
    }

    /** {@link #revoke(Collection)}, waiting at most {@code grace} for the loops. */
    Map<TopicPartition, Long> revoke(Collection<TopicPartition> partitions, Duration grace) {
        long deadline = System.nanoTime() + grace.toNanos();
        synchronized (this) {
            revoking.addAll(partitions);
            int busy = busy(partitions);
            if (busy > 0 && !draining) {
                LOG.infof("Partitions %s move to another worker: %d loop(s) checkpoint at their next step", partitions,
                        busy);
            }
            busy = awaitIdle(() -> busy(partitions), deadline);
            if (busy > 0) {
                LOG.warnf("Partitions %s move on with %d loop(s) still running after %s: their messages stay "
                        + "uncommitted and the next owner runs them again", partitions, busy, grace);
            }
        }
        return handledOffsets(partitions);
    }

    /** The partitions are gone (their offsets committed, or the commit given up on). */
    synchronized void released(Collection<TopicPartition> partitions) {
        owned.removeAll(partitions);
        revoking.removeAll(partitions);
        partitions.forEach(handled::remove);
    }

    private int busy(Collection<TopicPartition> partitions) {
        return partitions.stream().mapToInt(p -> inFlight.getOrDefault(p, 0)).sum();
    }

    private int busy() {
        return inFlight.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Waits, holding this monitor, until nothing counted by {@code busy} is in flight or the deadline passes. */
    private int awaitIdle(IntSupplier busy, long deadline) {
        int left;
        while ((left = busy.getAsInt()) > 0) {
            long nanos = deadline - System.nanoTime();
            if (nanos <= 0) {
                return left;
            }
            try {
                wait(Math.max(1, nanos / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return busy.getAsInt();
            }
        }
        return 0;
    }

    /**
     * SIGTERM, before the Kafka connector closes its clients (it closes after ShutdownEvent observers return, so
     * its producers are still there for the checkpoints): stop polling, let the loops checkpoint, commit.
     */
    void onStop(@Observes @Priority(1) ShutdownEvent event) {
        if (!Role.parse(config.roles()).contains(Role.UNET)) {
            return;
        }
        synchronized (this) {
            draining = true;
        }
        pausePolling();
        Duration grace = config.unet().shutdownGrace();
        long deadline = System.nanoTime() + grace.toNanos();
        synchronized (this) {
            LOG.infof("Shutting down: %d denoising job(s) in flight; each checkpoints at its next step", busy());
            int busy = awaitIdle(this::busy, deadline);
            if (busy > 0) {
                LOG.warnf("Shutting down with %d job(s) still in flight after %s: their messages stay "
                        + "uncommitted and are redelivered to another worker", busy, grace);
                return;
            }
        }
        Map<TopicPartition, Long> offsets = handledOffsets(null);
        if (offsets.isEmpty()) {
            LOG.info("Shutting down: no denoising job in flight, nothing to commit");
        } else if (commits.commitNow(offsets, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
            LOG.infof("Shutting down: no denoising job in flight; offsets committed %s", offsets);
        } else {
            LOG.warnf("Shutting down before offsets %s were committed: those messages are redelivered", offsets);
        }
    }

    private void pausePolling() {
        try {
            KafkaConsumer<Object, Object> consumer = kafka.getConsumer(CHANNEL);
            if (consumer != null) {
                consumer.pause().await().atMost(Duration.ofSeconds(5));
            }
        } catch (RuntimeException e) {
            // Messages still delivered are left alone while draining, so this is an optimisation only.
            LOG.debugf("Could not pause the %s consumer: %s", CHANNEL, e.getMessage());
        }
    }
}
