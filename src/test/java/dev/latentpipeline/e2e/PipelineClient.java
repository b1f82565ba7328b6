package dev.latentpipeline.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.ValidationMessage;
import dev.latentpipeline.pipeline.ContractSchemas;
import dev.latentpipeline.testing.RealInfrastructure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * What a user of the pipeline has: a plain Kafka producer on sd.requests and a consumer on sd.events.
 * Waiting is polling the events topic until the awaited event arrives or the deadline passes.
 */
final class PipelineClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KafkaProducer<String, byte[]> producer = RealInfrastructure.producer();
    private final KafkaConsumer<String, byte[]> events = RealInfrastructure.consumer();
    private final Map<String, List<JsonNode>> byRequest = new ConcurrentHashMap<>();
    /** Every event is checked against the published contract as it arrives. */
    private final JsonSchema eventSchema = ContractSchemas.compile(ContractSchemas.read(ContractSchemas.EVENT));

    PipelineClient() {
        events.subscribe(List.of("sd.events"));
    }

    void submit(String key, String body) {
        send(key, body.getBytes(StandardCharsets.UTF_8));
    }

    void send(String key, byte[] value) {
        try {
            producer.send(new ProducerRecord<>("sd.requests", key, value)).get();
        } catch (Exception e) {
            throw new IllegalStateException("could not publish a request", e);
        }
    }

    /** Waits for the request's terminal event (completed or failed) and returns it. */
    JsonNode awaitTerminal(String requestId, Duration timeout) {
        return await(requestId, e -> e.get("type").asText().equals("completed")
                || e.get("type").asText().equals("failed"), timeout);
    }

    JsonNode await(String requestId, Predicate<JsonNode> wanted, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (JsonNode event : eventsOf(requestId)) {
                if (wanted.test(event)) {
                    return event;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no such event for " + requestId + " within " + timeout + "; saw "
                        + eventsOf(requestId));
            }
            for (ConsumerRecord<String, byte[]> record : events.poll(Duration.ofMillis(200))) {
                try {
                    JsonNode event = JSON.readTree(record.value());
                    Set<ValidationMessage> violations = eventSchema.validate(event);
                    if (!violations.isEmpty()) {
                        throw new AssertionError("event breaks schemas/generation-event.schema.json: " + violations
                                + " in " + event);
                    }
                    if (!record.key().equals(event.get("request_id").asText())) {
                        throw new AssertionError("event keyed " + record.key() + " is about "
                                + event.get("request_id"));
                    }
                    byRequest.computeIfAbsent(event.get("request_id").asText(), k -> new ArrayList<>()).add(event);
                } catch (IOException e) {
                    throw new UncheckedIOException("an event on sd.events is not JSON", e);
                }
            }
        }
    }

    List<JsonNode> eventsOf(String requestId) {
        return List.copyOf(byRequest.getOrDefault(requestId, List.of()));
    }

    @Override
    public void close() {
        producer.close();
        events.close();
    }
}
