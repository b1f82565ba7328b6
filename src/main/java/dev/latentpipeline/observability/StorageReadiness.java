package dev.latentpipeline.observability;

import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.Role;
import dev.latentpipeline.storage.ImageStore;
import dev.latentpipeline.storage.StorageOutage;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready while the image bucket exists and answers; checked in processes whose roles write images, and in any
 * process while an object storage outage is under way ({@link StorageOutage}: a UNet worker that waits for an init
 * image reports it too). During an outage it is down and says since when, for how long, the grace
 * (sd.s3.outage-grace) and whether it is over (requests then fail with storage_error).
 */
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
    @Inject
    StorageOutage outage;

    /** Probes run here, one at a time: a hung server must not pile blocked calls onto a shared pool. */
    private final ExecutorService probes = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "storage-readiness");
        t.setDaemon(true);
        return t;
    });
    private CompletableFuture<Boolean> probe;

    @PreDestroy
    void close() {
        probes.shutdownNow();
    }

    @Override
    public HealthCheckResponse call() {
        if (Collections.disjoint(Role.parse(config.roles()), STORING) && outage.current().isEmpty()) {
            return HealthCheckResponse.named(NAME).up().withData("checked", false).build();
        }
        String error;
        try {
            // The call's outcome also tells the outage owner: a probe that gets an answer ends an outage.
            boolean exists = probe().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
            Optional<StorageOutage.Outage> now = outage.current();
            if (now.isPresent()) {
                return outage(now.get(), now.get().lastError());
            }
            return HealthCheckResponse.named(NAME).status(exists).withData("bucket", store.bucket())
                    .withData("checked", true).build();
        } catch (TimeoutException e) {
            error = "no answer within " + TIMEOUT_MS + " ms";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error = "interrupted";
        } catch (Exception e) {
            error = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
        }
        Optional<StorageOutage.Outage> now = outage.current();
        return now.isPresent() ? outage(now.get(), error) : down(error);
    }

    /** The probe in flight, or a new one: a probe still waiting on a hung server is not started twice. */
    private synchronized CompletableFuture<Boolean> probe() {
        if (probe == null || probe.isDone()) {
            probe = CompletableFuture.supplyAsync(store::bucketExists, probes);
        }
        return probe;
    }

    private HealthCheckResponse outage(StorageOutage.Outage now, String error) {
        HealthCheckResponseBuilder down = HealthCheckResponse.named(NAME).down().withData("bucket", store.bucket())
                .withData("outage", true)
                .withData("unreachable_since", now.since().toString())
                .withData("unreachable_ms", now.lasted().toMillis())
                .withData("outage_grace_ms", now.grace().toMillis())
                .withData("past_grace", now.pastGrace())
                .withData("error", String.valueOf(error));
        return down.build();
    }

    private HealthCheckResponse down(String error) {
        return HealthCheckResponse.named(NAME).down().withData("bucket", store.bucket())
                .withData("error", String.valueOf(error)).build();
    }
}
