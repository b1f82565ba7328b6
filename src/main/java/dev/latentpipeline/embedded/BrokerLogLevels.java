package dev.latentpipeline.embedded;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Turns the embedded broker's and S3 server's INFO chatter down to WARN.
 * <p>
 * Only categories that belong to the servers are touched (not {@code org.apache.kafka.clients}, which the
 * application's own producers and consumers use; the shared config dump is the exception), and only where no
 * level was set explicitly, so a
 * {@code quarkus.log.category."kafka".level=DEBUG} still wins.
 */
final class BrokerLogLevels {

    private static final String[] KAFKA = {
            "kafka", "state.change.logger",
            "org.apache.kafka.server", "org.apache.kafka.raft", "org.apache.kafka.controller",
            "org.apache.kafka.metadata", "org.apache.kafka.image", "org.apache.kafka.storage",
            "org.apache.kafka.coordinator", "org.apache.kafka.queue", "org.apache.kafka.snapshot",
            "org.apache.kafka.network", "org.apache.kafka.security",
            // Dumps every config (KafkaConfig three times per start); this also mutes the clients' dumps.
            "org.apache.kafka.common.config.AbstractConfig",
            "io.smallrye.reactive.messaging.kafka.companion.test" };

    private static final String[] S3 = { "org.gaul" };

    // JUL keeps loggers weakly; holding them keeps the levels from being lost to GC.
    private static final List<Logger> HELD = new ArrayList<>();

    private BrokerLogLevels() {
    }

    static void quiet() {
        apply(KAFKA);
    }

    static void quietS3() {
        apply(S3);
    }

    private static synchronized void apply(String[] categories) {
        for (String category : categories) {
            Logger logger = Logger.getLogger(category);
            if (logger.getLevel() == null) {
                logger.setLevel(Level.WARNING);
                HELD.add(logger);
            }
        }
    }
}
