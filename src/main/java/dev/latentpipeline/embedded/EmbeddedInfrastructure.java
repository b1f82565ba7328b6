package dev.latentpipeline.embedded;

import dev.latentpipeline.pipeline.PipelineConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.BeforeDestroyed;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The zero-setup default: with no Kafka or S3 endpoint configured, a real KRaft broker on localhost:9092 and a
 * real S3 server on localhost:9000 start inside this process, before the messaging connectors do.
 */
@ApplicationScoped
public class EmbeddedInfrastructure {
    private static final Logger LOG = Logger.getLogger(EmbeddedInfrastructure.class);

    @Inject
    PipelineConfig config;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    Optional<String> bootstrapServers;

    private EmbeddedKafka kafka;
    private EmbeddedS3 s3;

    /** Which embedded servers to start. */
    record Plan(boolean kafka, boolean s3) {
        /** auto starts a server only where no endpoint is configured for it; always and never do what they say. */
        static Plan of(String mode, boolean kafkaConfigured, boolean s3Configured) {
            return switch (mode.trim().toLowerCase(Locale.ROOT)) {
                case "auto" -> new Plan(!kafkaConfigured, !s3Configured);
                case "always" -> new Plan(true, true);
                case "never" -> new Plan(false, false);
                default -> throw new IllegalArgumentException(
                        "sd.embedded.mode must be auto, always or never, not '" + mode + "'");
            };
        }
    }

    void start(@Observes @Priority(10) StartupEvent event) {
        Plan plan = Plan.of(config.embedded().mode(), bootstrapServers.filter(s -> !s.isBlank()).isPresent(),
                config.s3().endpoint().filter(s -> !s.isBlank()).isPresent());
        Path data = Path.of(config.embedded().dataDir());
        if (plan.kafka()) {
            kafka = EmbeddedKafka.builder().port(config.embedded().kafkaPort()).logDir(data.resolve("kafka")).start();
            LOG.infof("Started the embedded Kafka broker (KRaft) on %s, data in %s", kafka.bootstrapServers(),
                    data.resolve("kafka").toAbsolutePath());
        }
        if (plan.s3()) {
            s3 = EmbeddedS3.builder().host("127.0.0.1").port(config.embedded().s3Port()).dataDir(data.resolve("s3"))
                    .credentials(config.s3().accessKey(), config.s3().secretKey()).start();
            LOG.infof("Started the embedded S3 server on %s, data in %s", s3.endpoint(),
                    data.resolve("s3").toAbsolutePath());
        }
    }

    /**
     * After the Kafka connector has closed its clients (it observes the same event at priority 50): consumers that
     * leave their groups cleanly are not waited for by the next start's rebalance (45 s session timeout).
     */
    void stop(@Observes @Priority(1000) @BeforeDestroyed(ApplicationScoped.class) Object event) {
        if (s3 != null) {
            s3.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }
}
