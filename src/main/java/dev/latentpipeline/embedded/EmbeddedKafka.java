package dev.latentpipeline.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import org.jboss.logging.Logger;

import io.smallrye.reactive.messaging.kafka.companion.test.EmbeddedKafkaBroker;

/**
 * A real single-node Apache Kafka broker (KRaft, combined broker + controller) running inside this JVM.
 * <p>
 * Used by tests and by the zero-setup default, where the log folder is kept so that topics and
 * committed offsets survive a restart. Without a folder a temp folder is used and deleted on close.
 */
public final class EmbeddedKafka implements AutoCloseable {

    /** Room for a 16 MiB payload plus record-batch framing, key and headers. */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024 + 256 * 1024;

    private static final Logger LOG = Logger.getLogger(EmbeddedKafka.class);

    private final EmbeddedKafkaBroker broker;
    private final Path logDir;
    private final Duration startupTime;

    private EmbeddedKafka(EmbeddedKafkaBroker broker, Path logDir, Duration startupTime) {
        this.broker = broker;
        this.logDir = logDir;
        this.startupTime = startupTime;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Comma-separated {@code host:port} list for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        // Advertised listeners look like "PLAINTEXT://127.0.0.1:9092"; clients want the host:port part.
        return broker.getAdvertisedListeners().replaceAll("[A-Za-z_]+://", "");
    }

    public Path logDir() {
        return logDir;
    }

    public Duration startupTime() {
        return startupTime;
    }

    public boolean isRunning() {
        return broker.isRunning();
    }

    @Override
    public void close() {
        broker.close();
    }

    public static final class Builder {
        private String host = "127.0.0.1";
        private int port;
        private Path logDir;
        private int partitions = 1;
        private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
        private boolean quietLogs = true;
        private final Map<String, String> extra = new LinkedHashMap<>();

        private Builder() {
        }

        /** Host to bind and advertise; 127.0.0.1 keeps the broker private to this machine. */
        public Builder host(String host) {
            this.host = host;
            return this;
        }

        /** Client port; 0 picks a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** Folder kept across restarts; {@code null} means a temp folder deleted on close. */
        public Builder logDir(Path logDir) {
            this.logDir = logDir;
            return this;
        }

        /** Partitions of auto-created topics ({@code num.partitions}). */
        public Builder partitions(int partitions) {
            this.partitions = partitions;
            return this;
        }

        /** Largest record batch the broker accepts ({@code message.max.bytes}). */
        public Builder maxMessageBytes(int maxMessageBytes) {
            this.maxMessageBytes = maxMessageBytes;
            return this;
        }

        /** Any other broker property; applied last, so it wins over the defaults. */
        public Builder brokerProperty(String key, String value) {
            extra.put(key, value);
            return this;
        }

        /** Lower the broker's own INFO chatter to WARN unless a level was configured explicitly. */
        public Builder quietLogs(boolean quietLogs) {
            this.quietLogs = quietLogs;
            return this;
        }

        public EmbeddedKafka start() {
            if (quietLogs) {
                BrokerLogLevels.quiet();
            }
            boolean temporary = logDir == null;
            Path dir = (temporary ? createTempDir() : createDir(logDir)).toAbsolutePath();
            EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker()
                    .withKafkaHost(host)
                    .withKafkaPort(port)
                    // A kept folder was formatted with some cluster id; formatting is skipped then, but keep
                    // the id consistent so the broker's view and ours never disagree.
                    .withClusterId(temporary ? randomClusterId() : existingClusterId(dir))
                    .withDeleteLogDirsOnClose(temporary)
                    .withAdditionalProperties(props -> configure(props, dir));
            long t0 = System.nanoTime();
            try {
                broker.start();
            } catch (RuntimeException e) {
                broker.close();
                throw new IllegalStateException("Embedded Kafka failed to start on " + host + ":" + port
                        + " with log dir " + dir, e);
            }
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            EmbeddedKafka kafka = new EmbeddedKafka(broker, dir, took);
            LOG.infof("Embedded Kafka started in %d ms at %s (log dir %s%s)", took.toMillis(),
                    kafka.bootstrapServers(), dir, temporary ? ", temporary" : "");
            return kafka;
        }

        private void configure(Properties props, Path dir) {
            props.put("log.dir", dir.toString());
            props.put("num.partitions", Integer.toString(partitions));
            props.put("auto.create.topics.enable", "true");
            props.put("message.max.bytes", Integer.toString(maxMessageBytes));
            props.put("replica.fetch.max.bytes", Integer.toString(maxMessageBytes));
            props.put("offsets.topic.replication.factor", "1");
            props.put("transaction.state.log.replication.factor", "1");
            props.put("transaction.state.log.min.isr", "1");
            props.put("group.initial.rebalance.delay.ms", "0");
            // The companion turns controlled shutdown off, which leaves the broker registered as alive in the
            // metadata log; on restart over a kept folder the controller then refuses the new registration
            // until the old session times out (about 10 s). A controlled shutdown fences it on close instead.
            props.put("controlled.shutdown.enable", "true");
            props.putAll(extra);
        }
    }

    private static String randomClusterId() {
        return org.apache.kafka.common.Uuid.randomUuid().toString();
    }

    /** Reuses the cluster id in {@code meta.properties} of an already formatted folder, else a new one. */
    private static String existingClusterId(Path dir) {
        Path meta = dir.resolve("meta.properties");
        if (!Files.isRegularFile(meta)) {
            return randomClusterId();
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(meta)) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + meta, e);
        }
        String id = p.getProperty("cluster.id");
        return id != null ? id : randomClusterId();
    }

    private static Path createTempDir() {
        try {
            return Files.createTempDirectory("embedded-kafka-" + UUID.randomUUID());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path createDir(Path dir) {
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create Kafka log dir " + dir, e);
        }
    }
}
