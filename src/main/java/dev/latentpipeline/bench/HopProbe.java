package dev.latentpipeline.bench;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The broker's floor, measured in the same run: the one-way latency of a record from a send (no batching delay,
 * acknowledged by all replicas, as the stages send) to a consumer already waiting for it, by record size. A
 * request's three hops through the pipeline cannot cost less than three of these.
 */
final class HopProbe {
    static final String TOPIC = "sd.bench.hops";

    private HopProbe() {
    }

    /** Median one-way latency in microseconds for each size, over {@code rounds} records each. */
    static long[] measure(Map<String, Object> adminConfig, KafkaProducer<String, byte[]> producer,
            KafkaConsumer<String, byte[]> consumer, int[] sizes, int rounds) throws Exception {
        try (Admin admin = Admin.create(adminConfig)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, Optional.of(1), Optional.empty())
                    .configs(Map.of("max.message.bytes", Integer.toString(8 * 1024 * 1024))))).all().get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
        TopicPartition partition = new TopicPartition(TOPIC, 0);
        consumer.assign(List.of(partition));
        consumer.seekToEnd(List.of(partition));
        consumer.position(partition);
        long[] medians = new long[sizes.length];
        for (int s = 0; s < sizes.length; s++) {
            byte[] payload = new byte[sizes[s]];
            long[] hops = new long[rounds];
            for (int r = -3; r < rounds; r++) {
                long sent = System.nanoTime();
                producer.send(new ProducerRecord<>(TOPIC, 0, "hop", payload));
                long received = 0;
                while (received == 0) {
                    for (ConsumerRecord<String, byte[]> ignored : consumer.poll(Duration.ofMillis(100))) {
                        received = System.nanoTime();
                    }
                }
                if (r >= 0) {
                    hops[r] = (received - sent) / 1_000;
                }
            }
            Arrays.sort(hops);
            medians[s] = hops[rounds / 2];
        }
        return medians;
    }
}
