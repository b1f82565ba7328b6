package dev.latentpipeline.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentpipeline.messaging.Delivery;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.IntFunction;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * Drives the running pipeline the way a user does, sd.requests in and sd.events out, keeping a fixed number of
 * requests in flight (a closed loop: a new request goes out as soon as one ends). The latency of a request runs
 * from its send to its terminal event arriving here.
 */
final class PipelineLoad implements AutoCloseable {
    private final ObjectMapper json;
    private final String requestsTopic;
    private final KafkaProducer<String, String> producer;
    private final KafkaConsumer<String, String> events;

    PipelineLoad(ObjectMapper json, String requestsTopic, String eventsTopic, KafkaProducer<String, String> producer,
            KafkaConsumer<String, String> events) {
        this.json = json;
        this.requestsTopic = requestsTopic;
        this.producer = producer;
        this.events = events;
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo p : events.partitionsFor(eventsTopic)) {
            partitions.add(new TopicPartition(eventsTopic, p.partition()));
        }
        events.assign(partitions);
        events.seekToEnd(partitions);
        partitions.forEach(events::position);
    }

    /** One run's samples, in completion order, and its wall time. */
    record Run(List<Sample> samples, long wallNanos, int submitted) {
    }

    /**
     * Sends {@code requests} requests made by {@code request} (given the index), never more than
     * {@code concurrency} in flight, and waits for each one's terminal event.
     */
    Run run(IntFunction<ObjectNode> request, int requests, int concurrency, Duration timeout) throws Exception {
        Map<String, Long> inFlight = new HashMap<>();
        List<Sample> samples = new ArrayList<>();
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        int sent = 0;
        while (samples.size() < requests && System.nanoTime() < deadline) {
            while (inFlight.size() < concurrency && sent < requests) {
                String id = "bench-" + UUID.randomUUID();
                ObjectNode body = request.apply(sent).put("id", id);
                inFlight.put(id, System.nanoTime());
                producer.send(new ProducerRecord<>(requestsTopic, id, json.writeValueAsString(body)));
                sent++;
            }
            producer.flush();
            for (ConsumerRecord<String, String> record : events.poll(Duration.ofMillis(50))) {
                Long sentAt = inFlight.get(record.key());
                if (sentAt == null) {
                    continue;
                }
                JsonNode event = json.readTree(record.value());
                String type = event.path("type").asText();
                if (type.equals("completed") || type.equals("failed") || type.equals("cancelled")) {
                    long latencyUs = (System.nanoTime() - sentAt) / 1_000;
                    inFlight.remove(record.key());
                    samples.add(Sample.fromEvent(record.key(), event, latencyUs,
                            Delivery.sentAtUs(record.headers(), record.timestamp()),
                            Delivery.epochMicros()));
                }
            }
        }
        return new Run(samples, System.nanoTime() - start, sent);
    }

    @Override
    public void close() {
        producer.close();
        events.close();
    }
}
