package dev.latentpipeline.observability;

import dev.latentpipeline.messaging.StageConsumer;
import dev.latentpipeline.messaging.StageConsumers;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.stream.Collectors;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;

/**
 * Live while every stage consumer of this process is polling. A consumer whose thread died turns liveness DOWN, so
 * the orchestrator restarts the worker and Kafka hands its partitions to another. The data names each stage's
 * partitions (a worker with none is idle, not broken: the group has more workers than partitions).
 */
@Liveness
@ApplicationScoped
public class StageConsumersHealth implements HealthCheck {
    public static final String NAME = "sd-stage-consumers";

    @Inject
    StageConsumers consumers;

    @Override
    public HealthCheckResponse call() {
        boolean up = true;
        HealthCheckResponseBuilder response = HealthCheckResponse.named(NAME);
        for (StageConsumer consumer : consumers.all()) {
            boolean running = consumer.running() || consumer.stopping();
            up &= running;
            String partitions = consumer.assignment().stream().map(p -> Integer.toString(p.partition())).sorted()
                    .collect(Collectors.joining(","));
            response.withData(consumer.stage(), running ? "partitions [" + partitions + "]"
                    : "stopped: " + consumer.failure());
        }
        return response.status(up).build();
    }
}
