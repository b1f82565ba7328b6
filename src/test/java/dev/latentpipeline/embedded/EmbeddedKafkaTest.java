package dev.latentpipeline.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EmbeddedKafkaTest {

    private static EmbeddedKafka kafka;

    @BeforeAll
    static void start() {
        kafka = EmbeddedKafka.builder().port(0).start();
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            kafka.close();
            assertFalse(Files.exists(kafka.logDir()), "temporary log dir is deleted on close");
        }
    }

    @Test
    void advertisesLoopbackHostAndPort() {
        assertTrue(kafka.bootstrapServers().matches("127\\.0\\.0\\.1:\\d+"), kafka.bootstrapServers());
        assertTrue(kafka.isRunning());
    }

    @Test
    void threeMegabyteRecordRoundTripsThroughAutoCreatedTopic() throws Exception {
        byte[] payload = new byte[3 * 1024 * 1024];
        new Random(42).nextBytes(payload);
        String topic = "big-records";

        try (KafkaProducer<String, byte[]> producer = KafkaTestClients.producer(kafka.bootstrapServers())) {
            producer.send(new ProducerRecord<>(topic, "k1", payload)).get(30, TimeUnit.SECONDS);
        }
        try (KafkaConsumer<String, byte[]> consumer = KafkaTestClients.consumer(kafka.bootstrapServers())) {
            consumer.subscribe(List.of(topic));
            List<ConsumerRecord<String, byte[]>> records = KafkaTestClients.pollAtLeast(consumer, 1,
                    Duration.ofSeconds(30));
            assertEquals(1, records.size());
            assertEquals("k1", records.get(0).key());
            assertArrayEquals(payload, records.get(0).value());
        }
    }
}
