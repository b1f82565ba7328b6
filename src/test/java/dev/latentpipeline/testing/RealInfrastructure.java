package dev.latentpipeline.testing;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import dev.latentpipeline.embedded.EmbeddedKafka;
import dev.latentpipeline.embedded.EmbeddedS3;
import dev.latentpipeline.storage.ImageStore;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Real Kafka broker and real S3 API server for Quarkus tests, no Docker: both run in the test JVM on free
 * ports with temp storage. Use with {@code @WithTestResource(RealInfrastructure.class)} (or
 * {@code @QuarkusTestResource}); tests reach the same servers through the static helpers.
 * <p>
 * Quarkus restarts the application (and this resource) for each distinct profile or resource set, so group
 * tests that share one to keep the suite fast.
 */
public class RealInfrastructure implements QuarkusTestResourceLifecycleManager {

    public static final String ACCESS_KEY = "test-access-key";
    public static final String SECRET_KEY = "test-secret-key";

    // Static so test code (not injected by Quarkus) can reach the servers of the running resource.
    private static volatile EmbeddedKafka kafka;
    private static volatile EmbeddedS3 s3;

    @Override
    public Map<String, String> start() {
        kafka = EmbeddedKafka.builder().port(0).start();
        s3 = EmbeddedS3.builder().port(0).credentials(ACCESS_KEY, SECRET_KEY).start();
        Map<String, String> config = new HashMap<>();
        config.put("kafka.bootstrap.servers", kafka.bootstrapServers());
        config.put("quarkus.kafka.devservices.enabled", "false");
        config.put("sd.s3.endpoint", s3.endpoint());
        config.put("sd.s3.access-key", ACCESS_KEY);
        config.put("sd.s3.secret-key", SECRET_KEY);
        return config;
    }

    @Override
    public void stop() {
        // S3 first: it is quick, and a slow broker shutdown must not leave it running.
        if (s3 != null) {
            s3.close();
            s3 = null;
        }
        if (kafka != null) {
            kafka.close();
            kafka = null;
        }
    }

    public static String bootstrapServers() {
        return running(kafka, "Kafka").bootstrapServers();
    }

    public static String s3Endpoint() {
        return running(s3, "S3").endpoint();
    }

    /** An ImageStore on the test S3 server; call {@link ImageStore#ensureBucket()} before use if needed. */
    public static ImageStore imageStore(String bucket) {
        return new ImageStore(s3Endpoint(), ACCESS_KEY, SECRET_KEY, bucket);
    }

    /** Producer config for the test broker, large records allowed; add or override entries as needed. */
    public static Map<String, Object> producerConfig() {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, EmbeddedKafka.DEFAULT_MAX_MESSAGE_BYTES);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        return config;
    }

    /** Consumer config for the test broker: a fresh group reading from the beginning. */
    public static Map<String, Object> consumerConfig() {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return config;
    }

    public static KafkaProducer<String, byte[]> producer() {
        return new KafkaProducer<>(producerConfig(), new StringSerializer(), new ByteArraySerializer());
    }

    public static KafkaConsumer<String, byte[]> consumer() {
        return new KafkaConsumer<>(consumerConfig(), new StringDeserializer(), new ByteArrayDeserializer());
    }

    private static <T> T running(T server, String name) {
        if (server == null) {
            throw new IllegalStateException(name + " is not running: annotate the test with "
                    + "@WithTestResource(RealInfrastructure.class)");
        }
        return server;
    }
}
