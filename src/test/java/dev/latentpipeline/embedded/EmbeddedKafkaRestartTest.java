package dev.latentpipeline.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The zero-setup default keeps the broker folder: records written before a restart are still there after. */
class EmbeddedKafkaRestartTest {

    @TempDir
    Path dir;

    @Test
    void keptLogDirSurvivesRestart() throws Exception {
        byte[] payload = "survives a restart".getBytes(StandardCharsets.UTF_8);
        try (EmbeddedKafka kafka = EmbeddedKafka.builder().logDir(dir).partitions(3).start();
                KafkaProducer<String, byte[]> producer = KafkaTestClients.producer(kafka.bootstrapServers())) {
            producer.send(new ProducerRecord<>("kept", 0, "k", payload)).get(30, TimeUnit.SECONDS);
            assertEquals(3, producer.partitionsFor("kept").size(), "num.partitions applies to auto-created topics");
        }
        try (EmbeddedKafka kafka = EmbeddedKafka.builder().logDir(dir).start();
                KafkaConsumer<String, byte[]> consumer = KafkaTestClients.consumer(kafka.bootstrapServers())) {
            consumer.subscribe(List.of("kept"));
            List<ConsumerRecord<String, byte[]>> records = KafkaTestClients.pollAtLeast(consumer, 1,
                    Duration.ofSeconds(30));
            assertEquals(1, records.size());
            assertArrayEquals(payload, records.get(0).value());
        }
        // Not a temp folder: close must leave it alone.
        assertEquals(true, Files.exists(dir.resolve("meta.properties")));
    }
}
