package dev.latentpipeline.denoise;

import dev.latentpipeline.pipeline.HandoffCommitStrategy;
import dev.latentpipeline.pipeline.PartitionWork;
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
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * How a UNet worker hands its loops on without running any step twice. When the group moves a partition (a worker
 * joined) the loop on it stops at its next step and checkpoints before the partition is committed and moves
 * ({@link PartitionWork}). On SIGTERM, before the Kafka connector closes its clients (it closes after
 * ShutdownEvent observers return, so its producers are still there for the checkpoints): stop polling, let every
 * loop checkpoint at its next step, commit, and only then let the consumer leave the group.
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
    @Identifier(HandoffCommitStrategy.NAME)
    HandoffCommitStrategy commits;

    /** The loop working on {@code partition} should stop at this step and hand its request on. */
    public boolean mustYield(TopicPartition partition) {
        return commits.work(CHANNEL).mustYield(partition);
    }

    /** True from SIGTERM on. */
    public boolean stopping() {
        return commits.work(CHANNEL).stopped();
    }

    void onStop(@Observes @Priority(1) ShutdownEvent event) {
        if (!Role.parse(config.roles()).contains(Role.UNET)) {
            return;
        }
        PartitionWork work = commits.work(CHANNEL);
        work.stopTaking();
        pausePolling();
        Duration grace = config.unet().shutdownGrace();
        long deadline = System.nanoTime() + grace.toNanos();
        LOG.infof("Shutting down: %d denoising job(s) in flight; each checkpoints at its next step", work.busy());
        int busy = work.awaitIdle(deadline);
        if (busy > 0) {
            LOG.warnf("Shutting down with %d job(s) still in flight after %s: their messages stay uncommitted and "
                    + "are redelivered to another worker", busy, grace);
            return;
        }
        LOG.info("Shutting down: no denoising job in flight");
        commits.commitNow(CHANNEL, Duration.ofNanos(Math.max(1_000_000_000L, deadline - System.nanoTime())));
    }

    private void pausePolling() {
        try {
            KafkaConsumer<Object, Object> consumer = kafka.getConsumer(CHANNEL);
            if (consumer != null) {
                consumer.pause().await().atMost(Duration.ofSeconds(5));
            }
        } catch (RuntimeException e) {
            // Messages still delivered are left alone once stopping, so this is an optimisation only.
            LOG.debugf("Could not pause the %s consumer: %s", CHANNEL, e.getMessage());
        }
    }
}
