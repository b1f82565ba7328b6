package dev.latentpipeline.messaging;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.latentpipeline.denoise.Checkpoint;
import dev.latentpipeline.wire.UnetJobEnded;
import dev.latentpipeline.wire.UnetJobState;
import io.opentelemetry.context.Context;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jboss.logging.Logger;

/**
 * The UNet stage's crash safety, on the side of the data flow: running jobs' checkpoints and ended jobs' markers
 * on the compacted topic sd.checkpoints, keyed by request id. Each partition of the UNet's input topics (one per
 * priority) has a partition of its own there: input topic i (high, normal, low) partition p writes to checkpoint
 * partition i * P + p, P the input topics' partition count. Only the owner of an input partition writes to its
 * checkpoint partition, and a worker given an input partition reads its checkpoint partition to the end before it
 * runs any job from it: a redelivered job resumes at its last checkpoint, and a redelivered copy of an ended job is
 * dropped. A job's loop thus stays on its worker: nothing goes back through sd.embeddings.
 */
final class SideCheckpoints implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(SideCheckpoints.class);
    static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

    private final String topic;
    /** The UNet's input topics, highest priority first, and their partition count. */
    private final List<String> inputs;
    private int partitionsPerInput;
    private final StageProducer producer;
    private final KafkaConsumer<String, byte[]> reader;
    /** Checkpoint partition to the latest state of each job seen in it; the polling thread writes, all read. */
    private final Map<Integer, Map<String, UnetJobState>> states = new ConcurrentHashMap<>();

    SideCheckpoints(String topic, List<String> inputs, StageProducer producer, Map<String, Object> readerConfig) {
        this.topic = topic;
        this.inputs = inputs;
        this.producer = producer;
        this.reader = new KafkaConsumer<>(readerConfig, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /** Fails clearly when sd.checkpoints cannot hold a partition for each input partition. */
    void checkPartitions() {
        int most = 0;
        for (String input : inputs) {
            List<PartitionInfo> theirs = reader.partitionsFor(input, READ_TIMEOUT);
            most = Math.max(most, theirs == null ? 0 : theirs.size());
        }
        partitionsPerInput = most;
        List<PartitionInfo> mine = reader.partitionsFor(topic, READ_TIMEOUT);
        int needed = most * inputs.size();
        if (mine == null || mine.size() < needed) {
            throw new IllegalStateException(topic + " has " + (mine == null ? 0 : mine.size()) + " partitions but "
                    + inputs + " need " + needed + " (one per partition of each, for its jobs' checkpoints)");
        }
    }

    /** The checkpoint partition of an input partition. */
    int slot(TopicPartition input) {
        return Math.max(0, inputs.indexOf(input.topic())) * partitionsPerInput + input.partition();
    }

    /** Reads the states of the jobs of these sd.embeddings partitions; on the polling thread, before their jobs. */
    void load(Collection<TopicPartition> embeddings) {
        List<TopicPartition> parts = embeddings.stream().map(p -> new TopicPartition(topic, slot(p))).toList();
        long started = System.nanoTime();
        reader.assign(parts);
        reader.seekToBeginning(parts);
        Map<TopicPartition, Long> end = reader.endOffsets(parts, READ_TIMEOUT);
        int records = 0;
        for (TopicPartition p : parts) {
            states.put(p.partition(), new ConcurrentHashMap<>());
        }
        long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
        while (parts.stream().anyMatch(p -> reader.position(p) < end.get(p))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("could not read " + topic + " " + parts + " to its end within "
                        + READ_TIMEOUT);
            }
            for (ConsumerRecord<String, byte[]> r : reader.poll(Duration.ofMillis(200))) {
                records++;
                Map<String, UnetJobState> partition = states.get(r.partition());
                if (r.key() == null || partition == null) {
                    continue;
                }
                if (r.value() == null) {
                    partition.remove(r.key());
                    continue;
                }
                try {
                    partition.put(r.key(), UnetJobState.parseFrom(r.value()));
                } catch (InvalidProtocolBufferException e) {
                    LOG.warnf("Skipped an unreadable record on %s for %s: %s", topic, r.key(), e.getMessage());
                }
            }
        }
        reader.unsubscribe();
        long live = parts.stream().mapToLong(p -> states.get(p.partition()).values().stream()
                .filter(UnetJobState::hasCheckpoint).count()).sum();
        LOG.infof("Read %d record(s) of %s %s in %d ms: %d job(s) to resume", records, topic,
                parts.stream().map(TopicPartition::partition).toList(), (System.nanoTime() - started) / 1_000_000,
                live);
    }

    void forget(Collection<TopicPartition> embeddings) {
        embeddings.forEach(p -> states.remove(slot(p)));
    }

    /** The latest state known for the job, or null. */
    UnetJobState state(TopicPartition embeddings, String requestId) {
        Map<String, UnetJobState> partition = states.get(slot(embeddings));
        return partition == null || requestId == null ? null : partition.get(requestId);
    }

    CompletableFuture<?> write(Context trace, TopicPartition embeddings, String requestId, Checkpoint checkpoint) {
        return put(trace, embeddings, requestId,
                UnetJobState.newBuilder().setCheckpoint(checkpoint.toProto()).build());
    }

    /** The job ended (finished, cancelled, failed): its checkpoint is replaced by a marker of a few bytes. */
    CompletableFuture<?> ended(Context trace, TopicPartition embeddings, String requestId, String outcome,
            String worker) {
        return put(trace, embeddings, requestId, UnetJobState.newBuilder().setEnded(UnetJobEnded.newBuilder()
                .setOutcome(outcome).setWorker(worker).setEndedAtMs(System.currentTimeMillis())).build());
    }

    private CompletableFuture<?> put(Context trace, TopicPartition embeddings, String requestId, UnetJobState state) {
        int slot = slot(embeddings);
        Map<String, UnetJobState> partition = states.get(slot);
        if (partition != null) {
            partition.put(requestId, state);
        }
        return producer.send(trace, topic, slot, requestId, state.toByteArray());
    }

    @Override
    public void close() {
        reader.close(Duration.ofSeconds(5));
    }
}
