package dev.latentpipeline.observability;

import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.Role;
import dev.latentpipeline.storage.ImageStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready while the image bucket exists and answers; checked only in processes whose roles write images. */
@Readiness
@ApplicationScoped
public class StorageReadiness implements HealthCheck {
    public static final String NAME = "sd-object-storage";
    /** Roles that write to object storage. */
    static final Set<Role> STORING = Collections.unmodifiableSet(EnumSet.of(Role.VAE));
    static final long TIMEOUT_MS = 3000;

    @Inject
    PipelineConfig config;
    @Inject
    ImageStore store;

    @Override
    public HealthCheckResponse call() {
        if (Collections.disjoint(Role.parse(config.roles()), STORING)) {
            return HealthCheckResponse.named(NAME).up().withData("checked", false).build();
        }
        try {
            // The SDK's own timeouts are minutes long; a probe must answer well inside its period.
            boolean exists = CompletableFuture.supplyAsync(store::bucketExists).get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
            return HealthCheckResponse.named(NAME).status(exists).withData("bucket", store.bucket())
                    .withData("checked", true).build();
        } catch (TimeoutException e) {
            return down("no answer within " + TIMEOUT_MS + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return down("interrupted");
        } catch (Exception e) {
            return down(e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
        }
    }

    private HealthCheckResponse down(String error) {
        return HealthCheckResponse.named(NAME).down().withData("bucket", store.bucket())
                .withData("error", String.valueOf(error)).build();
    }
}
