package dev.latentpipeline.denoise;

import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.Role;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.enterprise.context.BeforeDestroyed;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * Graceful stop of a UNet worker (SIGTERM): stop polling, let every in-flight loop stop at its next step and hand
 * its request on as a checkpoint, wait until the offsets of everything handled are committed, and only then let
 * the Kafka connector close (it closes after ShutdownEvent observers return, so its producers are still there
 * for the checkpoints). Messages the connector had already fetched but not handed over are held, unacknowledged,
 * until the consumer has closed: uncommitted, they go to the partition's next owner.
 */
@ApplicationScoped
public class UnetShutdown {
    private static final Logger LOG = Logger.getLogger(UnetShutdown.class);
    static final String CHANNEL = "embeddings";

    @Inject
    PipelineConfig config;
    @Inject
    KafkaClientService kafka;

    private final AtomicBoolean draining = new AtomicBoolean();
    private final CountDownLatch consumerClosed = new CountDownLatch(1);
    private int inFlight;
    /** Next offset to commit per partition: one past the last message this worker handled. */
    private final Map<TopicPartition, Long> handled = new HashMap<>();

    /** True from SIGTERM on: loops checkpoint at their next step, new messages are handed back unprocessed. */
    public boolean draining() {
        return draining.get();
    }

    /** Counts a message as in flight, unless draining has begun (then the caller must not process it). */
    public synchronized boolean tryEnter() {
        if (draining.get()) {
            return false;
        }
        inFlight++;
        return true;
    }

    public synchronized void exit() {
        inFlight--;
        notifyAll();
    }

    /** A message whose output (or checkpoint) is on the broker: its offset is committed once it is acknowledged. */
    public synchronized void handled(String topic, int partition, long offset) {
        handled.merge(new TopicPartition(topic, partition), offset + 1, Math::max);
    }

    /**
     * For a message that arrives while draining: blocks (not counted as in flight) until the consumer has closed,
     * so the message is acknowledged too late to be committed and its partition's next owner gets it.
     */
    public void holdUntilConsumerClosed() {
        try {
            consumerClosed.await(config.unet().shutdownGrace().toMillis() + 5000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** After the connector has closed its consumers (it observes this event at priority 50). */
    void releaseHeld(@Observes @Priority(100) @BeforeDestroyed(ApplicationScoped.class) Object event) {
        consumerClosed.countDown();
    }

    void onStop(@Observes @Priority(1) ShutdownEvent event) {
        if (!Role.parse(config.roles()).contains(Role.UNET)) {
            return;
        }
        synchronized (this) {
            draining.set(true);
        }
        pausePolling();
        Duration grace = config.unet().shutdownGrace();
        long deadline = System.nanoTime() + grace.toNanos();
        synchronized (this) {
            LOG.infof("Shutting down: %d denoising job(s) in flight; each checkpoints at its next step", inFlight);
            while (inFlight > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    LOG.warnf("Shutting down with %d job(s) still in flight after %s: their messages stay "
                            + "uncommitted and are redelivered to another worker", inFlight, grace);
                    return;
                }
                try {
                    wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        awaitCommitted(deadline);
    }

    private void awaitCommitted(long deadline) {
        Map<TopicPartition, Long> wanted;
        synchronized (this) {
            wanted = Map.copyOf(handled);
        }
        if (wanted.isEmpty()) {
            LOG.info("Shutting down: no denoising job in flight, nothing to commit");
            return;
        }
        KafkaConsumer<Object, Object> consumer = kafka.getConsumer(CHANNEL);
        while (System.nanoTime() < deadline) {
            Map<TopicPartition, OffsetAndMetadata> committed = consumer
                    .committed(wanted.keySet().toArray(TopicPartition[]::new)).await().atMost(Duration.ofSeconds(10));
            boolean done = wanted.entrySet().stream().allMatch(e -> committed.get(e.getKey()) != null
                    && committed.get(e.getKey()).offset() >= e.getValue());
            if (done) {
                LOG.infof("Shutting down: no denoising job in flight; offsets committed %s", wanted);
                return;
            }
            try {
                Thread.sleep(50); // the commits are asynchronous, on the consumer's polling thread
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        LOG.warnf("Shutting down before offsets %s were committed: those messages are redelivered", wanted);
    }

    private void pausePolling() {
        try {
            KafkaConsumer<Object, Object> consumer = kafka.getConsumer(CHANNEL);
            if (consumer != null) {
                consumer.pause().await().atMost(Duration.ofSeconds(5));
            }
        } catch (RuntimeException e) {
            // Messages still delivered are handed back unprocessed, so this is an optimisation only.
            LOG.debugf("Could not pause the %s consumer: %s", CHANNEL, e.getMessage());
        }
    }
}
