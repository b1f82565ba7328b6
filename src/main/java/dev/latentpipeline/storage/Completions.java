package dev.latentpipeline.storage;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * One marker object per completed request, {@code <request id>/completed.json} next to its images, holding the
 * completed event. Kafka delivers at least once and a crashed UNet worker's job may run twice; the VAE stage
 * checks the marker so a request's completed event reaches users once, and UNet workers drop a duplicate loop
 * of a request that has already completed.
 */
@ApplicationScoped
public class Completions {
    private static final Logger LOG = Logger.getLogger(Completions.class);
    public static final String MARKER = "completed.json";

    @Inject
    ImageStore store;

    private volatile boolean warned;

    public static String key(String requestId) {
        return requestId + "/" + MARKER;
    }

    /** Whether the request's completed event has been published. Storage errors propagate. */
    public boolean isCompleted(String requestId) {
        return store.exists(key(requestId));
    }

    /** As {@link #isCompleted}, but an unreachable store counts as "not known to be completed". */
    public boolean isKnownCompleted(String requestId) {
        try {
            return isCompleted(requestId);
        } catch (StorageException e) {
            if (!warned) {
                warned = true;
                LOG.warnf("Cannot check completion markers (%s); duplicate work is not pruned early", e.getMessage());
            }
            return false;
        }
    }

    /** The completed event of the request, as the VAE stage published it, if it has completed. */
    public java.util.Optional<String> completedEvent(String requestId) {
        try {
            return java.util.Optional.of(new String(store.get(key(requestId)), StandardCharsets.UTF_8));
        } catch (StorageException e) {
            if (ImageStore.isNotFound(e)) {
                return java.util.Optional.empty();
            }
            throw e;
        }
    }

    public void markCompleted(String requestId, String completedEventJson) {
        store.put(key(requestId), completedEventJson.getBytes(StandardCharsets.UTF_8), "application/json",
                Map.of("request-id", requestId));
    }
}
