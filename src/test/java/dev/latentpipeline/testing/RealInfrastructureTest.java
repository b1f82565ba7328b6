package dev.latentpipeline.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import dev.latentpipeline.storage.ImageStore;

/** The resource's lifecycle without Quarkus: config keys point at live servers, helpers reach them. */
class RealInfrastructureTest {

    @Test
    void startReturnsConfigForLiveServersAndStopEndsThem() throws Exception {
        RealInfrastructure resource = new RealInfrastructure();
        Map<String, String> config = resource.start();
        try {
            assertEquals(RealInfrastructure.bootstrapServers(), config.get("kafka.bootstrap.servers"));
            assertEquals(RealInfrastructure.s3Endpoint(), config.get("sd.s3.endpoint"));
            assertEquals(RealInfrastructure.ACCESS_KEY, config.get("sd.s3.access-key"));
            assertEquals(RealInfrastructure.SECRET_KEY, config.get("sd.s3.secret-key"));

            ImageStore store = RealInfrastructure.imageStore("infra");
            store.ensureBucket();
            store.put("a", new byte[] { 7 }, "application/octet-stream", Map.of());
            assertArrayEquals(new byte[] { 7 }, store.get("a"));

            try (KafkaProducer<String, byte[]> producer = RealInfrastructure.producer();
                    KafkaConsumer<String, byte[]> consumer = RealInfrastructure.consumer()) {
                producer.send(new ProducerRecord<>("it", "k", new byte[] { 9 })).get(30, TimeUnit.SECONDS);
                consumer.subscribe(List.of("it"));
                List<ConsumerRecord<String, byte[]>> got = new ArrayList<>();
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (got.isEmpty() && System.nanoTime() < deadline) {
                    consumer.poll(Duration.ofMillis(200)).forEach(got::add);
                }
                assertEquals(1, got.size());
            }
        } finally {
            resource.stop();
        }
        assertThrows(IllegalStateException.class, RealInfrastructure::bootstrapServers);
    }
}
