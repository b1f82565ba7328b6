package dev.latentpipeline.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentpipeline.embedded.EmbeddedKafka;
import dev.latentpipeline.storage.ImageStore;
import dev.latentpipeline.storage.StorageOutage;
import dev.latentpipeline.testing.RestartableS3;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Serial workers waiting out a storage outage (as the VAE stage does) when their partition moves to a joining
 * worker: the message on the moving partition is handed on uncommitted, at once, and its new owner gets that very
 * message; the one on the partition that stays keeps waiting and is written and committed once storage is back.
 * Real broker, real S3 server stopped and restarted on its port and folder.
 */
class StorageWaitHandOnTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void aWaitingMessageOnAMovingPartitionHandsOnAndTheOtherIsWrittenWhenStorageReturns() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.builder().port(0).start();
                Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                        kafka.bootstrapServers()));
                RestartableS3 s3 = RestartableS3.start(dir, "wait-access", "wait-secret-key")) {
            String topic = "latents-" + System.nanoTime();
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(2), Optional.empty()))).all()
                    .get(30, TimeUnit.SECONDS);
            StorageOutage outage = new StorageOutage(Duration.ofMinutes(3));
            ImageStore store = new ImageStore(s3.endpoint(), "wait-access", "wait-secret-key", "us-east-1", "images",
                    outage);
            store.ensureBucket();
            s3.stop();
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new StringSerializer(),
                    new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>(topic, 0, "r0", "zero".getBytes(StandardCharsets.UTF_8))).get();
                producer.send(new ProducerRecord<>(topic, 1, "r1", "one".getBytes(StandardCharsets.UTF_8))).get();
            }

            String group = "vae-" + System.nanoTime();
            StageConsumer busy = consumer(kafka, topic, group, "busy");
            StageConsumer joining = null;
            Map<Delivery, String> waiting = new ConcurrentHashMap<>();
            Set<String> handedOn = ConcurrentHashMap.newKeySet();
            // Two serial workers on one consumer, so each partition's message is in hand, waiting for storage.
            for (String name : List.of("w1", "w2")) {
                SerialWorker.start(busy, delivery -> {
                    waiting.put(delivery, delivery.key());
                    try {
                        outage.waitOut(() -> {
                            store.put(delivery.key(), delivery.value(), "text/plain", Map.of());
                            return null;
                        }, delivery::mustYield);
                        return CompletableFuture.completedFuture(null);
                    } catch (StorageOutage.HandedOn e) {
                        handedOn.add(delivery.key());
                        return CompletableFuture.failedFuture(e);
                    } finally {
                        waiting.remove(delivery);
                    }
                }, "vae-" + name);
            }
            try {
                Awaitility.await().atMost(WAIT).until(() -> waiting.size() == 2 && outage.current().isPresent());

                joining = consumer(kafka, topic, group, "joining");
                Delivery taken = joining.take(WAIT);
                assertNotNull(taken, "the joining worker gets the moved partition's message");
                assertEquals(0, taken.offset(), "the very message that was waiting, uncommitted");
                assertEquals(Set.of(taken.key()), handedOn, "only the moving partition's message handed on");
                assertEquals(1, waiting.size(), "the other keeps waiting");
                assertEquals(0, committed(admin, group, taken.partition()), "its offset is not committed past it");
                TopicPartition staying = new TopicPartition(topic, 1 - taken.partition().partition());

                s3.restart();
                Awaitility.await().atMost(WAIT).until(() -> committed(admin, group, staying) == 1);
                String stayingKey = "r" + staying.partition();
                assertTrue(store.exists(stayingKey), "written once storage was back");
                assertFalse(store.exists(taken.key()), "the handed-on message is its new owner's to write");
                assertTrue(outage.current().isEmpty());
                taken.release();
            } finally {
                busy.stop();
                if (joining != null) {
                    joining.stop();
                }
            }
        }
    }

    private static StageConsumer consumer(EmbeddedKafka kafka, String topic, String group, String client) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, client);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        return StageConsumer.start(new StageConsumer.Settings(client, topic, config, 2, Duration.ofSeconds(20)),
                new StageConsumer.PartitionListener() {
                }, c -> {
                });
    }

    private static long committed(Admin admin, String group, TopicPartition partition) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
        OffsetAndMetadata offset = offsets.get(partition);
        return offset == null ? -1 : offset.offset();
    }
}
