package dev.latentpipeline.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.ValidationMessage;
import dev.latentpipeline.pipeline.ContractSchemas;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Every event on sd.events from the beginning, in arrival order, as a user reading the topic sees them (no
 * de-duplication here: the tests count what reached users). Each event is checked against the published schema.
 */
final class EventLog implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KafkaConsumer<String, String> consumer;
    private final List<TopicPartition> partitions = new ArrayList<>();
    private final List<JsonNode> all = new ArrayList<>();
    private final Map<String, List<JsonNode>> byRequest = new HashMap<>();
    private final JsonSchema schema = ContractSchemas.compile(ContractSchemas.read(ContractSchemas.EVENT));

    EventLog(String bootstrapServers, String topic) {
        consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"), new StringDeserializer(), new StringDeserializer());
        consumer.partitionsFor(topic).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /** Reads until every id has a terminal event (completed or failed); returns the first of each. */
    Map<String, JsonNode> awaitTerminal(Collection<String> ids, Duration timeout) {
        return awaitTerminal(ids, timeout, () -> "");
    }

    Map<String, JsonNode> awaitTerminal(Collection<String> ids, Duration timeout, Supplier<String> diagnostics) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<String, JsonNode> terminal = new LinkedHashMap<>();
            for (String id : ids) {
                events(id).stream().filter(EventLog::isTerminal).findFirst().ifPresent(e -> terminal.put(id, e));
            }
            if (terminal.size() == ids.size()) {
                return terminal;
            }
            if (System.nanoTime() > deadline) {
                List<String> missing = ids.stream().filter(id -> !terminal.containsKey(id)).toList();
                throw new AssertionError(missing.size() + " of " + ids.size() + " requests have no terminal event "
                        + "within " + timeout + ", e.g. " + missing.get(0) + " with events " + events(missing.get(0))
                        + "\n" + diagnostics.get());
            }
            poll();
        }
    }

    /** Reads until some event matches; returns it. */
    JsonNode await(Predicate<JsonNode> wanted, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int seen = 0;
        while (true) {
            List<JsonNode> now = all();
            for (int i = seen; i < now.size(); i++) {
                if (wanted.test(now.get(i))) {
                    return now.get(i);
                }
            }
            seen = now.size();
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no matching event within " + timeout);
            }
            poll();
        }
    }

    /** Reads up to the topic's current end: afterwards this log holds every event published so far. */
    void catchUp(Duration timeout) {
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("events not read to the end within " + timeout);
            }
            poll();
        }
    }

    List<JsonNode> events(String requestId) {
        return List.copyOf(byRequest.getOrDefault(requestId, List.of()));
    }

    List<JsonNode> all() {
        return List.copyOf(all);
    }

    static boolean isTerminal(JsonNode event) {
        String type = event.get("type").asText();
        return type.equals("completed") || type.equals("failed");
    }

    private void poll() {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
            try {
                JsonNode event = JSON.readTree(record.value());
                Set<ValidationMessage> violations = schema.validate(event);
                if (!violations.isEmpty()) {
                    throw new AssertionError("event breaks schemas/generation-event.schema.json: " + violations
                            + " in " + event);
                }
                all.add(event);
                byRequest.computeIfAbsent(event.get("request_id").asText(), k -> new ArrayList<>()).add(event);
            } catch (IOException e) {
                throw new UncheckedIOException("an event on sd.events is not JSON", e);
            }
        }
    }

    @Override
    public void close() {
        consumer.close();
    }
}
