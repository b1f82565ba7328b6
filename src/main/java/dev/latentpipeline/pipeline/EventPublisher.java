package dev.latentpipeline.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.inject.Inject;
import java.time.Duration;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

/**
 * Publishes events to sd.events, keyed by request id so one request's events stay in order on one partition. Events sent
 * with {@link #publish} are also fired as CDI events: observability counts failures without this package knowing it.
 */
@ApplicationScoped
public class EventPublisher {
    private static final Logger LOG = Logger.getLogger(EventPublisher.class);
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);

    private final ObjectMapper json = new ObjectMapper();

    @Inject
    Event<GenerationEvent> published;

    @Inject
    @Channel("events")
    MutinyEmitter<String> emitter;

    /** Sends and waits for the broker's acknowledgement: for events a request's state depends on. */
    public void publish(GenerationEvent event) {
        emitter.sendMessage(message(event)).await().atMost(SEND_TIMEOUT);
        // After the broker has it: observers count what users will see, not what failed to go out.
        published.fire(event);
    }

    /** Sends without waiting: for progress events, which must not slow the denoising loop. */
    public void publishQuietly(GenerationEvent event) {
        emitter.sendMessage(message(event)).subscribe().with(ok -> { },
                failure -> LOG.warnf("progress event for %s not sent: %s", event.requestId(), failure.getMessage()));
    }

    private Message<String> message(GenerationEvent event) {
        try {
            String body = json.writeValueAsString(event);
            return Message.of(body).addMetadata(OutgoingKafkaRecordMetadata.<String>builder()
                    .withKey(event.requestId()).build());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("event cannot be written as JSON", e);
        }
    }
}
