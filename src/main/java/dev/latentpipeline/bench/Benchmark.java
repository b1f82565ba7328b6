package dev.latentpipeline.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentpipeline.pipeline.PipelineConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Pushes N requests through the running pipeline the way a user does (sd.requests in, sd.events out) and
 * prints end-to-end latency percentiles, throughput, and where the time went: inside ONNX Runtime, other stage
 * work (tensor encoding, PNG, storage), and between stages (Kafka, queues).
 */
@ApplicationScoped
public class Benchmark {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    PipelineConfig config;

    @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092")
    String bootstrapServers;

    /** Options: --requests N --warmup N --width W --height H --steps S --guidance G --scheduler NAME --prompt TEXT --timeout SECONDS */
    public int run(String[] args) throws Exception {
        Map<String, String> options = parse(args);
        int requests = Integer.parseInt(options.getOrDefault("requests", "20"));
        Duration timeout = Duration.ofSeconds(Long.parseLong(options.getOrDefault("timeout", "600")));
        ObjectNode template = JSON.createObjectNode()
                .put("prompt", options.getOrDefault("prompt", "a red square"))
                .put("width", Integer.parseInt(options.getOrDefault("width", "512")))
                .put("height", Integer.parseInt(options.getOrDefault("height", "512")))
                .put("steps", Integer.parseInt(options.getOrDefault("steps", "20")))
                .put("guidance_scale", Double.parseDouble(options.getOrDefault("guidance", "7.5")));
        if (options.containsKey("scheduler")) {
            template.put("scheduler", options.get("scheduler"));
        }

        int warmup = Integer.parseInt(options.getOrDefault("warmup", "2"));
        try (KafkaConsumer<String, String> events = consumer();
                KafkaProducer<String, String> producer = producer()) {
            // Start reading events from now: assign every partition and seek to the end before submitting.
            String topicEvents = config.topics().events();
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo p : events.partitionsFor(topicEvents)) {
                partitions.add(new TopicPartition(topicEvents, p.partition()));
            }
            events.assign(partitions);
            events.seekToEnd(partitions);
            partitions.forEach(events::position);

            if (warmup > 0) {
                // A fresh JVM's first requests pay for class loading, JIT and Kafka fetch sessions: not measured.
                System.out.printf(Locale.ROOT, "warm-up: %d requests (not measured)%n", warmup);
                Batch warm = push(producer, events, template, warmup, timeout);
                if (warm.finished().size() < warmup) {
                    System.out.println("warm-up did not finish in time");
                    return 1;
                }
            }
            System.out.printf(Locale.ROOT, "benchmark: %d requests of %s%n", requests, template);
            Batch batch = push(producer, events, template, requests, timeout);
            report(requests, batch.finished(), batch.latencyNanos(), batch.wallNanos());
            return batch.finished().size() == requests ? 0 : 1;
        }
    }

    /** Terminal events and latencies of one batch of requests submitted at once. */
    private record Batch(Map<String, JsonNode> finished, Map<String, Long> latencyNanos, long wallNanos) {
    }

    private Batch push(KafkaProducer<String, String> producer, KafkaConsumer<String, String> events,
            ObjectNode template, int requests, Duration timeout) throws Exception {
        Map<String, Long> submitted = new HashMap<>();
        Map<String, JsonNode> finished = new HashMap<>();
        Map<String, Long> latencyNanos = new HashMap<>();
        long start = System.nanoTime();
        for (int i = 0; i < requests; i++) {
            String id = "bench-" + UUID.randomUUID();
            ObjectNode request = template.deepCopy().put("id", id).put("seed", i);
            submitted.put(id, System.nanoTime());
            producer.send(new ProducerRecord<>(config.topics().requests(), id, JSON.writeValueAsString(request)));
        }
        producer.flush();
        long deadline = start + timeout.toNanos();
        while (finished.size() < requests && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> record : events.poll(Duration.ofMillis(200))) {
                if (!submitted.containsKey(record.key())) {
                    continue;
                }
                JsonNode event = JSON.readTree(record.value());
                String type = event.get("type").asText();
                if ((type.equals("completed") || type.equals("failed")) && !finished.containsKey(record.key())) {
                    finished.put(record.key(), event);
                    latencyNanos.put(record.key(), System.nanoTime() - submitted.get(record.key()));
                }
            }
        }
        return new Batch(finished, latencyNanos, System.nanoTime() - start);
    }

    private void report(int requests, Map<String, JsonNode> finished, Map<String, Long> latencyNanos, long wall) {
        long failed = finished.values().stream().filter(e -> e.get("type").asText().equals("failed")).count();
        double[] latencies = latencyNanos.values().stream().mapToDouble(n -> n / 1e6).sorted().toArray();
        double onnx = 0;
        double stageWork = 0;
        double endToEnd = 0;
        for (Map.Entry<String, JsonNode> entry : finished.entrySet()) {
            JsonNode stages = entry.getValue().get("stages");
            if (stages == null) {
                continue;
            }
            for (JsonNode stage : stages) {
                onnx += stage.get("onnx_ms").asDouble();
                stageWork += stage.get("duration_ms").asDouble();
            }
            endToEnd += latencyNanos.get(entry.getKey()) / 1e6;
        }
        System.out.printf(Locale.ROOT, "finished          %d of %d (%d failed)%n", finished.size(), requests, failed);
        System.out.printf(Locale.ROOT, "wall time         %.1f s%n", wall / 1e9);
        System.out.printf(Locale.ROOT, "throughput        %.2f requests/s%n", finished.size() / (wall / 1e9));
        System.out.printf(Locale.ROOT, "latency p50       %.0f ms%n", percentile(latencies, 50));
        System.out.printf(Locale.ROOT, "latency p95       %.0f ms%n", percentile(latencies, 95));
        System.out.printf(Locale.ROOT, "latency max       %.0f ms%n", latencies.length == 0 ? 0 : latencies[latencies.length - 1]);
        if (endToEnd > 0) {
            System.out.printf(Locale.ROOT, "time in ONNX Runtime                 %5.1f %%%n", 100 * onnx / endToEnd);
            System.out.printf(Locale.ROOT, "other stage work (tensors, PNG, S3)  %5.1f %%%n",
                    100 * (stageWork - onnx) / endToEnd);
            System.out.printf(Locale.ROOT, "between stages (Kafka, queueing)     %5.1f %%%n",
                    100 * (endToEnd - stageWork) / endToEnd);
        }
    }

    static double percentile(double[] sorted, int p) {
        if (sorted.length == 0) {
            return 0;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --option value pairs, got " + Arrays.toString(args));
            }
            options.put(args[i].substring(2), args[++i]);
        }
        return options;
    }

    private KafkaProducer<String, String> producer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers),
                new StringSerializer(), new StringSerializer());
    }

    private KafkaConsumer<String, String> consumer() {
        return new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"),
                new StringDeserializer(), new StringDeserializer());
    }
}
