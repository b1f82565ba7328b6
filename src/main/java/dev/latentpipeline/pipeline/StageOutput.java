package dev.latentpipeline.pipeline;

import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Sends stage messages downstream, keyed by request id, and waits for the broker's acknowledgement: a stage
 * commits its input only after its output is safely written (at-least-once).
 */
@ApplicationScoped
public class StageOutput {
    public static final String EMBEDDINGS = "embeddings-out";
    public static final String LATENTS = "latents-out";
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(60);

    @Inject
    @Channel(EMBEDDINGS)
    MutinyEmitter<byte[]> embeddings;

    @Inject
    @Channel(LATENTS)
    MutinyEmitter<byte[]> latents;

    public void send(String channel, String requestId, byte[] payload) {
        MutinyEmitter<byte[]> emitter = switch (channel) {
            case EMBEDDINGS -> embeddings;
            case LATENTS -> latents;
            default -> throw new IllegalArgumentException("no output channel " + channel);
        };
        Message<byte[]> message = Message.of(payload)
                .addMetadata(OutgoingKafkaRecordMetadata.<String>builder().withKey(requestId).build());
        emitter.sendMessage(message).await().atMost(SEND_TIMEOUT);
    }
}
