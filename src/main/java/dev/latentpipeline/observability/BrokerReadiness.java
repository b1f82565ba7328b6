package dev.latentpipeline.observability;

import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.common.Node;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready while the Kafka cluster answers a describeCluster within a few seconds. Readiness only: restarting this
 * worker would not bring a broker back, and Kafka's clients reconnect on their own.
 */
@Readiness
@ApplicationScoped
public class BrokerReadiness implements HealthCheck {
    public static final String NAME = "sd-kafka-broker";
    static final int TIMEOUT_MS = 3000;
    /** What SmallRye's Kafka connector uses when kafka.bootstrap.servers is unset (the embedded broker). */
    static final String DEFAULT_BOOTSTRAP = "localhost:9092";

    /** kafka.* settings (bootstrap servers, security) as Quarkus hands them to every Kafka client. */
    @Inject
    @Identifier("default-kafka-broker")
    Map<String, Object> kafkaConfig;

    private Admin admin;

    private synchronized Admin admin() {
        if (admin == null) {
            Map<String, Object> settings = new HashMap<>(kafkaConfig);
            settings.putIfAbsent(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, DEFAULT_BOOTSTRAP);
            settings.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, TIMEOUT_MS);
            settings.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, TIMEOUT_MS);
            settings.put(AdminClientConfig.CLIENT_ID_CONFIG, "sd-health");
            admin = Admin.create(settings);
        }
        return admin;
    }

    @Override
    public HealthCheckResponse call() {
        try {
            DescribeClusterResult cluster = admin().describeCluster();
            String id = cluster.clusterId().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
            Collection<Node> nodes = cluster.nodes().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
            return HealthCheckResponse.named(NAME).up().withData("cluster-id", String.valueOf(id))
                    .withData("brokers", nodes.size()).build();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return HealthCheckResponse.named(NAME).down().withData("error", "interrupted").build();
        } catch (Exception e) {
            return HealthCheckResponse.named(NAME).down().withData("error", String.valueOf(e.getMessage())).build();
        }
    }

    @PreDestroy
    synchronized void close() {
        if (admin != null) {
            admin.close();
        }
    }
}
