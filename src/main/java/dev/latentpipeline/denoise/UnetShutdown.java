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
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Graceful stop of a UNet worker (SIGTERM): stop polling, let every in-flight loop stop at its next step and hand
 * its request on as a checkpoint, and only then let the Kafka connector close, which commits the offsets of the
 * messages handled. The connector closes after ShutdownEvent observers return, so its producers are still
 * there for the checkpoints.
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
    private int inFlight;

    /** True from SIGTERM on: loops checkpoint at their next step, new messages are handed back unprocessed. */
    public boolean draining() {
        return draining.get();
    }

    public synchronized void enter() {
        inFlight++;
    }

    public synchronized void exit() {
        inFlight--;
        notifyAll();
    }

    void onStop(@Observes @Priority(1) ShutdownEvent event) {
        if (!Role.parse(config.roles()).contains(Role.UNET)) {
            return;
        }
        draining.set(true);
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
        LOG.info("Shutting down: no denoising job in flight; offsets are committed as the consumer closes");
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
