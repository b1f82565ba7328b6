package dev.latentpipeline.messaging;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jboss.logging.Logger;

/**
 * One stage's Kafka consumer: a thread that polls, queues what it fetched for the stage's worker threads to
 * {@link #take}, and commits. It owns the delivery bookkeeping the stages must not see:
 * <ul>
 * <li>offsets: with several messages of a partition in hand, the committed offset is the lowest unfinished one
 * ({@link PartitionLedger}), committed right after each message ends and retried until the broker takes it;</li>
 * <li>back-pressure: it pauses fetching while {@code prefetch} messages wait untaken, so a busy worker holds no more
 * than that beyond what it runs (per priority: a paused busy priority leaves the others' fetch in flight, which is
 * why stage consumers keep the broker's wait for an empty fetch short, {@code KafkaClients.STAGE_FETCH_MAX_WAIT_MS});</li>
 * <li>priorities: a stage reads one topic per priority (high, normal, low); {@link #take} gives the highest priority
 * waiting, except that while lower-priority messages wait, every {@code share}-th message taken is the oldest of
 * them: low priority is never starved, and the rule does not depend on how fast the machine is;</li>
 * <li>partitions moving away (a worker joining) or the worker stopping: work in hand on them is told to
 * {@link Delivery#mustYield yield}, the consumer waits for it (at most {@code grace}), commits, and only then lets
 * the partition go, so its next owner redoes nothing.</li>
 * </ul>
 * Everything that touches the {@link KafkaConsumer} runs on the polling thread; workers' calls only change the
 * shared state under this object's monitor and wake the poll.
 */
public final class StageConsumer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(StageConsumer.class);
    static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
    static final Duration RETRY_DELAY = Duration.ofMillis(500);
    static final Duration MAX_RETRY_DELAY = Duration.ofSeconds(30);
    static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);

    /** What a stage worker hears about its partitions; every call runs on the polling thread. */
    public interface PartitionListener {
        /** Newly owned partitions, before any of their messages is delivered. */
        default void assigned(Collection<TopicPartition> partitions) {
        }

        /** These partitions are moving away (or the worker stops): work on them should hand on at its next step. */
        default void revoking(Collection<TopicPartition> partitions) {
        }

        /** Gone without a revocation (the group evicted this worker); anything still running on them is stale. */
        default void lost(Collection<TopicPartition> partitions) {
        }
    }

    /**
     * What identifies and bounds one stage's consumer.
     *
     * @param topics the stage's input topics, highest priority first (one topic: no priorities)
     * @param prefetch messages fetched ahead per priority
     * @param share while lower-priority messages wait, every share-th message taken is the oldest of them
     */
    public record Settings(String stage, List<String> topics, Map<String, Object> kafka, int prefetch, Duration grace,
            int share) {

        public Settings {
            if (share < 2) {
                throw new IllegalArgumentException("sd.priority.share must be at least 2, got " + share);
            }
        }

        public Settings(String stage, String topic, Map<String, Object> kafka, int prefetch, Duration grace) {
            this(stage, List.of(topic), kafka, prefetch, grace, Integer.MAX_VALUE);
        }
    }

    /** One owned partition during one turn of ownership. */
    private static final class Owned {
        final long turn;
        final PartitionLedger ledger = new PartitionLedger();
        /** Ended messages waiting for the committed offset to pass them, by offset. */
        final TreeMap<Long, Delivery> awaitingCommit = new TreeMap<>();
        int taken;
        boolean revoking;

        Owned(long turn) {
            this.turn = turn;
        }
    }

    private final Settings settings;
    private final PartitionListener listener;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Thread thread;

    // Guarded by this.
    private final Map<TopicPartition, Owned> owned = new HashMap<>();
    /** Fetched, not yet taken, one queue per priority (the index of the topic in the settings). */
    private final List<ArrayDeque<Delivery>> waiting = new ArrayList<>();
    /** Messages of the highest priority taken in a row while lower-priority ones waited. */
    private int passedOver;
    /** Which priorities' partitions are paused (their queue is full). */
    private final boolean[] pausedPriority;
    private long turns;
    private boolean commitWanted;
    private boolean stopping;
    private volatile boolean closed;
    /** True while the polling thread is inside poll(): only then may a worker wake it (see {@link #wakePoll}). */
    private volatile boolean polling;
    private volatile Throwable failure;
    private long retryAtNanos;
    private Duration retryDelay = RETRY_DELAY;

    private StageConsumer(Settings settings, PartitionListener listener, Consumer<KafkaConsumer<?, ?>> onCreated) {
        this.settings = settings;
        this.listener = listener;
        Map<String, Object> props = new HashMap<>(settings.kafka());
        this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        for (int i = 0; i < settings.topics().size(); i++) {
            waiting.add(new ArrayDeque<>());
        }
        this.pausedPriority = new boolean[settings.topics().size()];
        onCreated.accept(consumer);
        this.thread = new Thread(this::run, settings.stage() + "-consumer");
        this.thread.setDaemon(true);
    }

    /** Creates the consumer, subscribes it to the stage's topic and starts polling. */
    public static StageConsumer start(Settings settings, PartitionListener listener,
            Consumer<KafkaConsumer<?, ?>> onCreated) {
        StageConsumer stageConsumer = new StageConsumer(settings, listener, onCreated);
        stageConsumer.thread.start();
        return stageConsumer;
    }

    public String stage() {
        return settings.stage();
    }

    /** The next message to work on, waiting at most {@code timeout}; null on time-out or once stopping. */
    public Delivery take(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Delivery next;
        synchronized (this) {
            while ((next = next()) == null) {
                long nanos = deadline - System.nanoTime();
                if (stopping || closed || nanos <= 0) {
                    return null;
                }
                TimeUnit.NANOSECONDS.timedWait(this, nanos);
            }
            owned.get(next.partition()).taken++;
            next.taken();
            int priority = priorityOf(next);
            if (pausedPriority[priority] && waiting.get(priority).size() < settings.prefetch()) {
                wakePoll();
            }
        }
        return next;
    }

    /**
     * The message to take now: the first of the highest priority waiting, except that after {@code share - 1} of
     * those in a row while lower-priority messages waited, the oldest lower-priority one (by when it was sent).
     * Holding this monitor.
     */
    private Delivery next() {
        int highest = -1;
        for (int i = 0; i < waiting.size() && highest < 0; i++) {
            highest = waiting.get(i).isEmpty() ? -1 : i;
        }
        if (highest < 0) {
            return null;
        }
        int oldestLower = -1;
        long oldest = Long.MAX_VALUE;
        for (int i = highest + 1; i < waiting.size(); i++) {
            Delivery head = waiting.get(i).peek();
            if (head != null && head.sentAtUs() < oldest) {
                oldest = head.sentAtUs();
                oldestLower = i;
            }
        }
        if (oldestLower < 0) {
            passedOver = 0;
            return waiting.get(highest).poll();
        }
        if (passedOver >= settings.share() - 1) {
            passedOver = 0;
            return waiting.get(oldestLower).poll();
        }
        passedOver++;
        return waiting.get(highest).poll();
    }

    private int priorityOf(Delivery delivery) {
        int index = settings.topics().indexOf(delivery.partition().topic());
        return Math.max(0, index);
    }

    /** Whether this consumer's polling thread is alive (null) or what stopped it. */
    public Throwable failure() {
        return failure;
    }

    /** Whether {@link #stop} was called: work in hand is being handed on. */
    public synchronized boolean stopping() {
        return stopping;
    }

    public boolean running() {
        return thread.isAlive() && failure == null;
    }

    /** Messages fetched and waiting to be taken, all priorities together. */
    public synchronized int waitingCount() {
        return waiting.stream().mapToInt(ArrayDeque::size).sum();
    }

    public synchronized Set<TopicPartition> assignment() {
        return Set.copyOf(owned.keySet());
    }

    synchronized boolean mustYield(Delivery delivery) {
        Owned o = owned.get(delivery.partition());
        return stopping || o == null || o.turn != delivery.turn() || o.revoking;
    }

    synchronized void finish(Delivery delivery) {
        Owned o = owned.get(delivery.partition());
        if (o == null || o.turn != delivery.turn()) {
            // The partition moved on while this message was in hand: its next owner handles it again.
            LOG.debugf("%s: %s ended after its partition moved; not committed", stage(), delivery);
            delivery.committed.complete(null);
            notifyAll();
            return;
        }
        o.taken--;
        o.ledger.finished(delivery.offset());
        o.awaitingCommit.put(delivery.offset(), delivery);
        commitWanted = true;
        notifyAll();
        wakePoll();
    }

    /**
     * Interrupts a poll in progress so commits and resumes happen now, not at the poll's time-out. Only while
     * polling: a wake-up that lands on any other blocking call (a commit inside a rebalance) would make it throw.
     */
    private void wakePoll() {
        if (polling) {
            consumer.wakeup();
        }
    }

    synchronized void release(Delivery delivery) {
        Owned o = owned.get(delivery.partition());
        if (o != null && o.turn == delivery.turn()) {
            o.taken--;
        }
        delivery.committed.complete(null);
        notifyAll();
    }

    // ---- the polling thread ---------------------------------------------------------------------------------------

    private void run() {
        try {
            consumer.subscribe(settings.topics(), new Rebalance());
            while (true) {
                synchronized (this) {
                    if (stopping) {
                        break;
                    }
                    adjustPause();
                }
                commitIfWanted();
                ConsumerRecords<String, byte[]> records;
                try {
                    polling = true;
                    records = consumer.poll(pollTimeout());
                } catch (WakeupException e) {
                    continue;
                } finally {
                    polling = false;
                }
                if (!records.isEmpty()) {
                    accept(records);
                }
            }
            drainAndCommit();
        } catch (RuntimeException | Error e) {
            failure = e;
            LOG.errorf(e, "%s: the consumer stopped", stage());
        } finally {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.debugf("%s: closing the consumer: %s", stage(), e);
            }
            synchronized (this) {
                closed = true;
                notifyAll();
            }
        }
    }

    private synchronized Duration pollTimeout() {
        if (retryAtNanos == 0) {
            return POLL_TIMEOUT;
        }
        long nanos = Math.max(1_000_000, retryAtNanos - System.nanoTime());
        return Duration.ofNanos(Math.min(nanos, POLL_TIMEOUT.toNanos()));
    }

    /** Queues fetched records, interleaving partitions so no partition's backlog starves the others. */
    private void accept(ConsumerRecords<String, byte[]> records) {
        List<Iterator<ConsumerRecord<String, byte[]>>> perPartition = new ArrayList<>();
        for (TopicPartition p : records.partitions()) {
            perPartition.add(records.records(p).iterator());
        }
        synchronized (this) {
            boolean any = true;
            while (any) {
                any = false;
                for (Iterator<ConsumerRecord<String, byte[]>> it : perPartition) {
                    if (!it.hasNext()) {
                        continue;
                    }
                    any = true;
                    ConsumerRecord<String, byte[]> r = it.next();
                    TopicPartition p = new TopicPartition(r.topic(), r.partition());
                    Owned o = owned.get(p);
                    if (o == null || o.revoking) {
                        continue;
                    }
                    o.ledger.fetched(r.offset());
                    Delivery delivery = new Delivery(this, p, r.offset(), o.turn, r.key(), r.value(), r.headers(),
                            r.timestamp());
                    waiting.get(priorityOf(delivery)).add(delivery);
                }
            }
            notifyAll();
        }
    }

    /**
     * Stops fetching a priority's partitions while {@code prefetch} of its messages wait; resumes once they are
     * taken. Each priority keeps its own queue filled, so the oldest waiting message of each is always known.
     */
    private void adjustPause() {
        for (int i = 0; i < waiting.size(); i++) {
            boolean full = waiting.get(i).size() >= settings.prefetch();
            if (full != pausedPriority[i]) {
                String topic = settings.topics().get(i);
                List<TopicPartition> partitions = consumer.assignment().stream().filter(p -> p.topic().equals(topic))
                        .toList();
                if (full) {
                    consumer.pause(partitions);
                } else {
                    consumer.resume(partitions);
                }
                pausedPriority[i] = full;
            }
        }
    }

    private void commitIfWanted() {
        Map<TopicPartition, OffsetAndMetadata> due;
        synchronized (this) {
            if (!commitWanted || (retryAtNanos != 0 && System.nanoTime() < retryAtNanos)) {
                return;
            }
            commitWanted = false;
            retryAtNanos = 0;
            due = committable(owned.keySet());
        }
        if (due.isEmpty()) {
            return;
        }
        consumer.commitAsync(due, (offsets, error) -> {
            if (error == null) {
                committed(offsets);
                synchronized (this) {
                    retryDelay = RETRY_DELAY;
                }
            } else {
                retryLater(error);
            }
        });
    }

    /** A refused commit (the group rebalancing, the broker away) is retried after 0.5 s, doubling to 30 s. */
    private synchronized void retryLater(Exception error) {
        if (retryDelay.equals(RETRY_DELAY)) {
            LOG.infof("%s: committing offsets failed (%s); retrying in %d ms", stage(), error.toString(),
                    retryDelay.toMillis());
        } else {
            LOG.debugf("%s: committing offsets failed again (%s)", stage(), error.toString());
        }
        commitWanted = true;
        retryAtNanos = System.nanoTime() + retryDelay.toNanos();
        Duration doubled = retryDelay.multipliedBy(2);
        retryDelay = doubled.compareTo(MAX_RETRY_DELAY) > 0 ? MAX_RETRY_DELAY : doubled;
    }

    private synchronized Map<TopicPartition, OffsetAndMetadata> committable(Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> due = new HashMap<>();
        for (TopicPartition p : partitions) {
            Owned o = owned.get(p);
            if (o == null) {
                continue;
            }
            OptionalLong next = o.ledger.committable();
            if (next.isPresent()) {
                due.put(p, new OffsetAndMetadata(next.getAsLong()));
            }
        }
        return due;
    }

    private synchronized void committed(Map<TopicPartition, OffsetAndMetadata> offsets) {
        offsets.forEach((p, offset) -> {
            Owned o = owned.get(p);
            if (o == null) {
                return;
            }
            o.ledger.committed(offset.offset());
            var covered = o.awaitingCommit.headMap(offset.offset(), false);
            covered.values().forEach(d -> d.committed.complete(null));
            covered.clear();
        });
    }

    /** Commits the given partitions and waits for the broker (in a rebalance or at the end). */
    private void commitSync(Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> due = committable(partitions);
        if (due.isEmpty()) {
            return;
        }
        try {
            try {
                consumer.commitSync(due, COMMIT_TIMEOUT);
            } catch (WakeupException e) {
                // A worker's wake-up meant for the poll landed here instead; the commit itself did not run.
                consumer.commitSync(due, COMMIT_TIMEOUT);
            }
            committed(due);
        } catch (KafkaException e) {
            LOG.warnf("%s: could not commit %s (%s): their last messages are handled again", stage(),
                    due.keySet(), e.toString());
        }
    }

    /** Waits (at most until {@code deadline}) until no message taken from {@code partitions} is in hand. */
    private synchronized int awaitIdle(Collection<TopicPartition> partitions, long deadline) {
        while (true) {
            int busy = 0;
            for (TopicPartition p : partitions) {
                Owned o = owned.get(p);
                busy += o == null ? 0 : o.taken;
            }
            long nanos = deadline - System.nanoTime();
            if (busy == 0 || nanos <= 0) {
                return busy;
            }
            try {
                TimeUnit.NANOSECONDS.timedWait(this, nanos);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return busy;
            }
        }
    }

    /**
     * Hands on the work in hand on {@code partitions} and commits them: they are about to leave this worker. Returns
     * how many messages were still in hand when the grace ran out.
     */
    private int handOn(Collection<TopicPartition> partitions) {
        synchronized (this) {
            for (TopicPartition p : partitions) {
                Owned o = owned.get(p);
                if (o != null) {
                    o.revoking = true;
                }
            }
            waiting.forEach(queue -> queue.removeIf(d -> partitions.contains(d.partition())));
            notifyAll();
        }
        listener.revoking(partitions);
        long deadline = System.nanoTime() + settings.grace().toNanos();
        int busy = awaitIdle(partitions, deadline);
        if (busy > 0) {
            LOG.warnf("%s: %s move on with %d message(s) still in hand after %s: those are handled again", stage(),
                    partitions, busy, settings.grace());
        }
        commitSync(partitions);
        return busy;
    }

    private void drainAndCommit() {
        Set<TopicPartition> all;
        synchronized (this) {
            all = new HashSet<>(owned.keySet());
        }
        int busy;
        synchronized (this) {
            busy = owned.values().stream().mapToInt(o -> o.taken).sum();
        }
        if (busy > 0) {
            LOG.infof("%s: stopping with %d message(s) in hand; each finishes or hands on at its next step", stage(),
                    busy);
        }
        int left = handOn(all);
        if (left == 0) {
            LOG.infof("%s: stopped with nothing in hand; offsets committed", stage());
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            synchronized (StageConsumer.this) {
                for (TopicPartition p : partitions) {
                    owned.put(p, new Owned(++turns));
                }
                List<TopicPartition> full = partitions.stream()
                        .filter(p -> pausedPriority[Math.max(0, settings.topics().indexOf(p.topic()))]).toList();
                if (!full.isEmpty()) {
                    consumer.pause(full);
                }
            }
            listener.assigned(partitions);
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            // Inside poll(), but about to block on workers and commit: no wake-ups meant for the poll here.
            boolean wasPolling = polling;
            polling = false;
            try {
                handOn(partitions);
                forget(partitions);
            } finally {
                polling = wasPolling;
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            LOG.warnf("%s: lost %s (this worker missed the group's session timeout); work on them is redone by "
                    + "their next owner", stage(), partitions);
            synchronized (StageConsumer.this) {
                for (TopicPartition p : partitions) {
                    Owned o = owned.get(p);
                    if (o != null) {
                        o.revoking = true;
                    }
                }
            }
            listener.lost(partitions);
            forget(partitions);
        }

        private void forget(Collection<TopicPartition> partitions) {
            synchronized (StageConsumer.this) {
                for (TopicPartition p : partitions) {
                    Owned o = owned.remove(p);
                    if (o != null) {
                        o.awaitingCommit.values().forEach(d -> d.committed.complete(null));
                    }
                }
                waiting.forEach(queue -> queue.removeIf(d -> partitions.contains(d.partition())));
                StageConsumer.this.notifyAll();
            }
        }
    }

    /**
     * SIGTERM: takes no more work, lets the work in hand finish or hand on (bounded by the grace), commits, and
     * leaves the group. Returns once the consumer is closed.
     */
    public void stop() {
        synchronized (this) {
            stopping = true;
            notifyAll();
        }
        wakePoll();
        try {
            thread.join(settings.grace().plusSeconds(15).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
    }
}
