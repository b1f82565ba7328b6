package dev.latentpipeline.pipeline;

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
 * What one stage's consumer is working on, per partition: which partitions it owns, which message is in flight,
 * and the offsets of messages whose output is on the broker (the only ones {@link HandoffCommitStrategy} commits).
 * When the group takes a partition away, the message in flight on it finishes (a UNet loop stops at its next step
 * and checkpoints) before the partition's offset is committed and it moves: its next owner redoes nothing.
 */
public final class PartitionWork {
    private static final Logger LOG = Logger.getLogger(PartitionWork.class);

    private final String channel;
    /** All of these are guarded by {@code this}. */
    private boolean stopped;
    /** Whether {@link HandoffCommitStrategy} reports this channel's partitions (another strategy configured: no). */
    private boolean tracking;
    private final Set<TopicPartition> owned = new HashSet<>();
    private final Set<TopicPartition> revoking = new HashSet<>();
    private final Map<TopicPartition, Integer> inFlight = new HashMap<>();
    /** Next offset to commit per partition: one past the last message handled while this consumer owned it. */
    private final Map<TopicPartition, Long> handled = new HashMap<>();
    /** Counts the times each partition was assigned, so work begun in an earlier turn cannot commit in a later one. */
    private final Map<TopicPartition, Long> turns = new HashMap<>();

    public PartitionWork(String channel) {
        this.channel = channel;
    }

    /** Called when the channel's consumer commits with {@link HandoffCommitStrategy}: ownership is known from now. */
    public synchronized void trackPartitions() {
        tracking = true;
    }

    /** From now on no new message starts (a stopping worker); they are left for the partitions' next owner. */
    public synchronized void stopTaking() {
        stopped = true;
    }

    public synchronized boolean stopped() {
        return stopped;
    }

    /** Whether work on {@code partition} should stop at its next safe point and hand on (stopping, or moving). */
    public synchronized boolean mustYield(TopicPartition partition) {
        return stopped || revoking.contains(partition);
    }

    /** What {@link #tryEnter} returns when the message must be left alone. */
    public static final long NOT_ENTERED = -1;

    /**
     * Counts a message as in flight, unless the consumer is stopping or no longer (or not yet) owns its partition:
     * then it returns {@link #NOT_ENTERED} and the caller must leave the message alone. It is never committed here,
     * so the partition's next owner gets it. Otherwise it returns the ticket to give back to {@link #exit}.
     */
    public synchronized long tryEnter(TopicPartition partition) {
        if (stopped || (tracking && (revoking.contains(partition) || !owned.contains(partition)))) {
            return NOT_ENTERED;
        }
        inFlight.merge(partition, 1, Integer::sum);
        return turns.getOrDefault(partition, 0L);
    }

    /**
     * Ends what {@link #tryEnter} started. Only a message {@code handled} (its output, or its failed event, on the
     * broker) in the same turn of ownership it started in counts for the commit: a message that threw, or that
     * outlived a revocation while the partition went away and came back, is left for redelivery.
     */
    public synchronized void exit(TopicPartition partition, long ticket, long offset, boolean handled) {
        if (handled && owned.contains(partition) && turns.getOrDefault(partition, 0L) == ticket) {
            this.handled.merge(partition, offset + 1, Math::max);
        }
        inFlight.merge(partition, -1, Integer::sum);
        notifyAll();
    }

    /** Offsets of handled messages on the given partitions (all owned ones when {@code null}); a copy. */
    public synchronized Map<TopicPartition, Long> handledOffsets(Collection<TopicPartition> partitions) {
        // Only owned partitions have entries: exit() records nothing else, released() and assigned() clear them.
        Map<TopicPartition, Long> out = new HashMap<>(handled);
        if (partitions != null) {
            out.keySet().retainAll(partitions);
        }
        return out;
    }

    /** The group gave these partitions; anything remembered about them from an earlier turn is stale. */
    public synchronized void assigned(Collection<TopicPartition> partitions) {
        owned.addAll(partitions);
        partitions.forEach(p -> {
            handled.remove(p);
            turns.merge(p, 1L, Long::sum);
        });
    }

    /**
     * The group takes these partitions away (on the consumer's polling thread, before it rejoins): waits, at most
     * {@code grace}, for the work in flight on them to hand on. Returns the handled offsets to commit before the
     * partitions go; the caller commits them and then calls {@link #released}.
     */
    public Map<TopicPartition, Long> revoke(Collection<TopicPartition> partitions, Duration grace) {
        long deadline = System.nanoTime() + grace.toNanos();
        synchronized (this) {
            revoking.addAll(partitions);
            int busy = busy(partitions);
            if (busy > 0 && !stopped) {
                LOG.infof("%s: partitions %s move to another worker once the %d message(s) in hand are handled",
                        channel, partitions, busy);
            }
            busy = awaitIdle(() -> busy(partitions), deadline);
            if (busy > 0) {
                LOG.warnf("%s: partitions %s move on with %d message(s) still in hand after %s: they stay "
                        + "uncommitted and the next owner handles them again", channel, partitions, busy, grace);
            }
        }
        return handledOffsets(partitions);
    }

    /** The partitions are gone (their offsets committed, or the commit given up on). */
    public synchronized void released(Collection<TopicPartition> partitions) {
        owned.removeAll(partitions);
        revoking.removeAll(partitions);
        partitions.forEach(handled::remove);
    }

    /** Waits at most until {@code deadline} (System.nanoTime) for nothing to be in flight; returns what still is. */
    public synchronized int awaitIdle(long deadline) {
        return awaitIdle(this::busy, deadline);
    }

    private int busy(Collection<TopicPartition> partitions) {
        return partitions.stream().mapToInt(p -> inFlight.getOrDefault(p, 0)).sum();
    }

    public synchronized int busy() {
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
}
