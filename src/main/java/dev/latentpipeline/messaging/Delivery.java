package dev.latentpipeline.messaging;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * One message a stage worker has taken from its consumer. The worker ends it exactly once: {@link #done()} when
 * its output (or its failed event) is on the broker, or {@link #release()} when it hands the work back unfinished
 * (the partition moves, the worker stops: the next owner gets the message again).
 */
public final class Delivery {
    /** Header with the sender's clock in epoch microseconds: record timestamps only have milliseconds. */
    public static final String SENT_AT_US = "sd-sent-at-us";
    private final StageConsumer owner;
    private final TopicPartition partition;
    private final long offset;
    private final long turn;
    private final String key;
    private final byte[] value;
    private final Headers headers;
    private final long timestampMs;
    private volatile long takenAtUs;
    private final long sentAtUs;
    final CompletableFuture<Void> committed = new CompletableFuture<>();
    private boolean ended;

    Delivery(StageConsumer owner, TopicPartition partition, long offset, long turn, String key, byte[] value,
            Headers headers, long timestampMs) {
        this.owner = owner;
        this.partition = partition;
        this.offset = offset;
        this.turn = turn;
        this.key = key;
        this.value = value;
        this.headers = headers;
        this.timestampMs = timestampMs;
        this.sentAtUs = sentAtUs(headers, timestampMs);
    }

    void taken() {
        takenAtUs = epochMicros();
    }

    public TopicPartition partition() {
        return partition;
    }

    public long offset() {
        return offset;
    }

    long turn() {
        return turn;
    }

    /** The record key: the request id, by the pipeline's contract (null for a record sent without one). */
    public String key() {
        return key;
    }

    public byte[] value() {
        return value;
    }

    public Headers headers() {
        return headers;
    }

    /** When the upstream stage wrote the record (the broker's timestamp): the start of its wait in this queue. */
    public long timestampMs() {
        return timestampMs;
    }

    public static long epochMicros() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000;
    }

    /**
     * Microseconds between the upstream stage sending the message and a worker taking it: the broker hop, plus any
     * wait behind other messages. From the sender's header where it has one (record timestamps have milliseconds).
     */
    public long queuedUs() {
        return Math.max(0, takenAtUs - sentAtUs);
    }

    /** When the upstream stage sent the message, epoch microseconds. */
    long sentAtUs() {
        return sentAtUs;
    }

    /**
     * When a record was sent, in epoch microseconds: the sender's {@link #SENT_AT_US} header, else the record's
     * millisecond timestamp (a record someone else wrote).
     */
    public static long sentAtUs(Headers headers, long timestampMs) {
        Header sent = headers == null ? null : headers.lastHeader(SENT_AT_US);
        if (sent != null) {
            try {
                return Long.parseLong(new String(sent.value(), java.nio.charset.StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                // a header someone else wrote: fall back to the record timestamp
            }
        }
        return timestampMs * 1_000;
    }

    /** Whether the work should stop at its next safe point and hand on: the partition moves or the worker stops. */
    public boolean mustYield() {
        return owner.mustYield(this);
    }

    /**
     * The message is handled: its output is on the broker. Returns a future that completes once the committed
     * offset covers this message (it may wait for earlier messages of the partition still in hand).
     */
    public CompletableFuture<Void> done() {
        end();
        owner.finish(this);
        return committed;
    }

    /** Hands the message back unfinished: it is not committed, and the partition's next owner handles it again. */
    public void release() {
        end();
        owner.release(this);
    }

    private synchronized void end() {
        if (ended) {
            throw new IllegalStateException(partition + "@" + offset + " was already ended");
        }
        ended = true;
    }

    @Override
    public String toString() {
        return partition + "@" + offset + (key == null ? "" : " (" + key + ")");
    }
}
