package dev.latentpipeline.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentpipeline.embedded.EmbeddedKafka;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The stage consumer against a real broker: commits that never pass a message still in hand, messages fetched but
 * not taken left uncommitted on stop, and work on a partition that moves to a joining worker handed on before it
 * moves (the new owner gets exactly the messages not done).
 */
class StageConsumerTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static EmbeddedKafka kafka;
    private static Admin admin;

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.builder().port(0).start();
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
    }

    @AfterAll
    static void stopBroker() {
        if (admin != null) {
            admin.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    private static String topic(int partitions) throws Exception {
        String name = "stage-" + UUID.randomUUID();
        admin.createTopics(List.of(new NewTopic(name, Optional.of(partitions), Optional.empty()))).all()
                .get(30, TimeUnit.SECONDS);
        return name;
    }

    private static void produce(String topic, int partition, int count) {
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config, new StringSerializer(),
                new ByteArraySerializer())) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, partition, "r" + partition + "-" + i, new byte[] {1}));
            }
        }
    }

    private static StageConsumer consumer(String topic, String group, String client, int prefetch) {
        return consumer(List.of(topic), group, client, prefetch, Integer.MAX_VALUE);
    }

    private static StageConsumer consumer(List<String> topics, String group, String client, int prefetch,
            int share) {
        Map<String, Object> kafkaConfig = new HashMap<>();
        kafkaConfig.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        kafkaConfig.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        kafkaConfig.put(ConsumerConfig.CLIENT_ID_CONFIG, client);
        kafkaConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        kafkaConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        kafkaConfig.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                CooperativeStickyAssignor.class.getName());
        return StageConsumer.start(new StageConsumer.Settings(client, topics, kafkaConfig, prefetch,
                Duration.ofSeconds(20), share), new StageConsumer.PartitionListener() {
                }, c -> {
                });
    }

    private static long committed(String group, TopicPartition partition) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
        OffsetAndMetadata offset = offsets.get(partition);
        return offset == null ? -1 : offset.offset();
    }

    private static Delivery take(StageConsumer consumer) throws InterruptedException {
        Delivery delivery = consumer.take(WAIT);
        assertNotNull(delivery, "no message within " + WAIT);
        return delivery;
    }

    @Test
    void theCommittedOffsetIsTheLowestMessageNotDone() throws Exception {
        String topic = topic(1);
        String group = "g-" + UUID.randomUUID();
        TopicPartition partition = new TopicPartition(topic, 0);
        produce(topic, 0, 5);
        StageConsumer consumer = consumer(topic, group, "c1", 5);
        try {
            Delivery first = take(consumer);
            Delivery second = take(consumer);
            Delivery third = take(consumer);
            assertEquals(List.of(0L, 1L, 2L), List.of(first.offset(), second.offset(), third.offset()));
            // The later two finish first: their output is out, but offset 0 is still in hand. A commit follows
            // each message at once; none may pass offset 0 (a negative, so it is watched over a window).
            var thirdCommitted = third.done();
            var secondCommitted = second.done();
            Awaitility.await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                    .until(() -> committed(group, partition) <= 0);
            assertFalse(secondCommitted.isDone() || thirdCommitted.isDone(),
                    "their commit cannot be acknowledged while offset 0 is in hand");
            first.done().get(30, TimeUnit.SECONDS);
            assertEquals(3, committed(group, partition));
            assertTrue(secondCommitted.isDone() && thirdCommitted.isDone());
        } finally {
            consumer.stop();
        }
        // Offsets 3 and 4 were fetched (prefetch) but never taken: stopping did not commit them.
        assertEquals(3, committed(group, partition));
        StageConsumer next = consumer(topic, group, "c2", 5);
        try {
            Delivery resumed = take(next);
            assertEquals(3, resumed.offset(), "the next consumer starts at the first message not done");
            resumed.release();
        } finally {
            next.stop();
        }
    }

    @Test
    void aPartitionMovingToAJoiningWorkerIsHandedOnFirst() throws Exception {
        String topic = topic(2);
        String group = "g-" + UUID.randomUUID();
        produce(topic, 0, 3);
        produce(topic, 1, 3);
        StageConsumer busy = consumer(topic, group, "busy", 6);
        StageConsumer joining = null;
        try {
            // The busy worker holds the first message of each partition.
            Map<Integer, Delivery> inHand = new HashMap<>();
            while (inHand.size() < 2) {
                Delivery d = take(busy);
                if (inHand.containsKey(d.partition().partition())) {
                    d.done();
                } else {
                    inHand.put(d.partition().partition(), d);
                }
            }
            assertFalse(inHand.get(0).mustYield());
            assertFalse(inHand.get(1).mustYield());

            joining = consumer(topic, group, "joining", 6);
            // One partition moves: the work on it is told to yield, the other partition's is not.
            Awaitility.await().atMost(WAIT).until(() -> inHand.values().stream().anyMatch(Delivery::mustYield));
            Delivery moving = inHand.values().stream().filter(Delivery::mustYield).findFirst().orElseThrow();
            Delivery staying = inHand.values().stream().filter(d -> !d.mustYield()).findFirst().orElseThrow();
            // It hands the job on unfinished: the partition's next owner must get that very message.
            moving.release();
            Delivery taken = take(joining);
            assertEquals(moving.partition(), taken.partition());
            assertEquals(moving.offset(), taken.offset());
            assertFalse(staying.mustYield());
            staying.done().get(30, TimeUnit.SECONDS);
            taken.done().get(30, TimeUnit.SECONDS);
            assertEquals(moving.offset() + 1, committed(group, moving.partition()));
        } finally {
            busy.stop();
            if (joining != null) {
                joining.stop();
            }
        }
    }

    /** Waits until {@code count} messages are fetched and waiting, so the order of takes is the consumer's choice. */
    private static void awaitFetched(StageConsumer consumer, int count) {
        Awaitility.await().atMost(WAIT).until(() -> consumer.waitingCount() >= count);
    }

    @Test
    void higherPriorityIsTakenFirstAndLowerPriorityGetsEveryShareThTurn() throws Exception {
        String high = topic(1);
        String normal = topic(1);
        String low = topic(1);
        produce(low, 0, 2);
        produce(normal, 0, 2);
        produce(high, 0, 4);
        StageConsumer consumer = consumer(List.of(high, normal, low), "g-" + UUID.randomUUID(), "shares", 8, 3);
        try {
            awaitFetched(consumer, 8);
            List<String> order = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Delivery d = take(consumer);
                order.add(d.partition().topic());
                d.done();
            }
            // Share 3: two highs, then the oldest lower one (a low: sent first), two highs, the oldest lower one
            // (the other low), then what is left, highest first.
            assertEquals(List.of(high, high, low, high, high, low, normal, normal), order);
        } finally {
            consumer.stop();
        }
    }
}
