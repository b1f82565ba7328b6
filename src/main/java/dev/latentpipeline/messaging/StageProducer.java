package dev.latentpipeline.messaging;

import dev.latentpipeline.pipeline.WorkerIdentity;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.Reception;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The process's one Kafka producer for everything its stages write (tensor messages, events, checkpoints). One
 * producer means one connection per broker: a stage's event and its output, sent in that order, are appended in
 * that order. Sends never block the caller beyond handing the record over; callers that must know the record is
 * on the broker wait for the returned future.
 */
@ApplicationScoped
public class StageProducer {
    @Inject
    KafkaClients clients;
    @Inject
    MessagingTracing tracing;
    @Inject
    WorkerIdentity worker;
    @Inject
    MeterRegistry registry;

    private KafkaProducer<String, byte[]> producer;
    private KafkaClientMetrics metrics;
    /**
     * Where send futures complete: never on the producer's own I/O thread, which would then run the callers'
     * continuations; one of them sending to a topic the producer has no metadata for yet blocks that thread
     * waiting for metadata only that thread can fetch.
     */
    private final ExecutorService completions = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "stage-producer-completions");
        t.setDaemon(true);
        return t;
    });

    @PostConstruct
    void open() {
        producer = new KafkaProducer<>(clients.producer(KafkaClients.clientId(worker.id(), "producer")),
                new StringSerializer(), new ByteArraySerializer());
        metrics = new KafkaClientMetrics(producer);
        metrics.bindTo(registry);
    }

    /**
     * Sends a record, as a child span of {@code parent}, carrying the trace context in its headers.
     *
     * @param partition the partition to write, or null for the key's default partition
     */
    public CompletableFuture<RecordMetadata> send(Context parent, String topic, Integer partition, String key,
            byte[] value) {
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, partition, key, value);
        record.headers().add(Delivery.SENT_AT_US, Long.toString(Delivery.epochMicros()).getBytes(
                java.nio.charset.StandardCharsets.US_ASCII));
        Span span = tracing.publish(topic, parent, key);
        tracing.inject(parent.with(span), record.headers());
        CompletableFuture<RecordMetadata> sent = new CompletableFuture<>();
        try {
            producer.send(record, (metadata, error) -> {
                if (error != null) {
                    span.recordException(error);
                    span.setStatus(StatusCode.ERROR);
                    span.end();
                    completions.execute(() -> sent.completeExceptionally(error));
                } else {
                    span.end();
                    completions.execute(() -> sent.complete(metadata));
                }
            });
        } catch (RuntimeException e) {
            span.recordException(e);
            span.end();
            sent.completeExceptionally(e);
        }
        return sent;
    }

    /** Fetches the topics' metadata now, so a stage's first send to each does not wait for it. */
    public void warmUp(java.util.Collection<String> topics) {
        topics.forEach(producer::partitionsFor);
    }

    /** After the stages have drained (priority 1): what they sent last reaches the broker before the JVM ends. */
    void close(@Observes(notifyObserver = Reception.IF_EXISTS) @Priority(50) ShutdownEvent event) {
        producer.flush();
        metrics.close();
        producer.close(Duration.ofSeconds(10));
        completions.shutdown();
    }
}
