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
    /** Where SmallRye's Kafka connector looks when kafka.bootstrap.servers is not set. */
    static final int KAFKA_PORT = 9092;

    @Inject
    PipelineConfig config;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    Optional<String> bootstrapServers;

    private EmbeddedKafka kafka;
    private EmbeddedS3 s3;

    void start(@Observes @Priority(10) StartupEvent event) throws Exception {
        String mode = config.embedded().mode().trim().toLowerCase(Locale.ROOT);
        if (!mode.equals("auto") && !mode.equals("always") && !mode.equals("never")) {
            throw new IllegalArgumentException("sd.embedded.mode must be auto, always or never, not '" + mode + "'");
        }
        boolean always = mode.equals("always");
        boolean auto = mode.equals("auto");
        Path data = Path.of(config.embedded().dataDir());
        if (always || (auto && bootstrapServers.filter(s -> !s.isBlank()).isEmpty())) {
            kafka = EmbeddedKafka.builder().port(KAFKA_PORT).logDir(data.resolve("kafka")).start();
            LOG.infof("Started the embedded Kafka broker (KRaft) on %s, data in %s", kafka.bootstrapServers(),
                    data.resolve("kafka").toAbsolutePath());
        }
        if (always || (auto && config.s3().endpoint().filter(s -> !s.isBlank()).isEmpty())) {
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
