package dev.latentpipeline.observability;

import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.WorkerIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/**
 * Names this worker and its roles in /q/health/live. The liveness that matters is {@link StageConsumersHealth}'s:
 * a stage consumer that stopped turns liveness DOWN.
 */
@Liveness
@ApplicationScoped
public class WorkerLiveness implements HealthCheck {
    public static final String NAME = "sd-worker";

    @Inject
    PipelineConfig config;
    @Inject
    WorkerIdentity worker;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named(NAME).up().withData("worker", worker.id()).withData("roles", config.roles())
                .build();
    }
}
