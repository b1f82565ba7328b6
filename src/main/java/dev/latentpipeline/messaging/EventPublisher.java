package dev.latentpipeline.messaging;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latentpipeline.pipeline.GenerationEvent;
import dev.latentpipeline.pipeline.PipelineConfig;
import io.opentelemetry.context.Context;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * Publishes events to sd.events, keyed by request id so one request's events stay in order on one partition.
 * Events are also fired as CDI events once the broker has them: observability counts failures without this
 * package knowing it.
 */
@ApplicationScoped
public class EventPublisher {
    private static final Logger LOG = Logger.getLogger(EventPublisher.class);
    static final long SEND_TIMEOUT_S = 30;

    @Inject
    ObjectMapper json;
    @Inject
    PipelineConfig config;
    @Inject
    StageProducer producer;
    @Inject
    Event<GenerationEvent> published;

    /** Sends; the future completes once the broker has the event. */
    public CompletableFuture<Void> send(Context trace, GenerationEvent event) {
        return producer.send(trace, config.topics().events(), null, event.requestId(), bytes(event))
                .thenAccept(metadata -> published.fire(event));
    }

    /** Fetches sd.events' metadata now, so the first event does not wait for it. */
    public void warmUp() {
        producer.warmUp(java.util.List.of(config.topics().events()));
    }

    /** Sends an event already written as JSON (one stored earlier, such as a completed event), unchanged. */
    public CompletableFuture<Void> sendStored(Context trace, String requestId, String json) {
        return producer.send(trace, config.topics().events(), null, requestId, json.getBytes(StandardCharsets.UTF_8))
                .thenAccept(metadata -> { });
    }

    /** Sends and waits for the broker's acknowledgement: for events a request's state depends on. */
    public void publish(GenerationEvent event) {
        await(send(Context.current(), event), "event " + event.type() + " for " + event.requestId());
    }

    /** Sends without waiting: for progress events, which must not slow the denoising loop. */
    public void publishQuietly(Context trace, GenerationEvent event) {
        send(trace, event).whenComplete((ok, failure) -> {
            if (failure != null) {
                LOG.warnf("%s event for %s not sent: %s", event.type(), event.requestId(), failure.getMessage());
            }
        });
    }

    private byte[] bytes(GenerationEvent event) {
        try {
            return json.writeValueAsString(event).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("event cannot be written as JSON", e);
        }
    }

    /** Waits for a send; a broker that does not answer in 30 s is an error. */
    public static void await(CompletableFuture<?> sent, String what) {
        try {
            sent.get(SEND_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending " + what, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot send " + what + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("the broker did not acknowledge " + what + " within " + SEND_TIMEOUT_S
                    + " s", e);
        }
    }
}
