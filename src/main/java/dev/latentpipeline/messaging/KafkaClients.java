package dev.latentpipeline.messaging;

import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.Topics;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Settings of the stages' Kafka clients: the deployment's kafka.* settings (bootstrap servers, security) as
 * Quarkus collects them, this pipeline's defaults, then per-stage overrides {@code sd.kafka.<stage>.<property>}
 * (for example {@code sd.kafka.unet.session.timeout.ms=6000}).
 */
@ApplicationScoped
public class KafkaClients {
    /** Where clients look when kafka.bootstrap.servers is unset: the embedded broker. */
    public static final String DEFAULT_BOOTSTRAP = "localhost:9092";
    /** Tensor messages and checkpoints: the topics' own limit. */
    static final int MAX_MESSAGE_BYTES = Integer.parseInt(Topics.TENSOR_MAX_MESSAGE_BYTES);
    /**
     * How long the broker holds a stage consumer's fetch that found nothing. A stage reads three priority topics
     * and pauses a priority whose prefetch is full; the client sends no new fetch to a broker while one is
     * outstanding, so with the busy priority paused, a fetch over only the empty ones (high and low, usually) sits
     * at the broker for this long, and the busy priority, resumed meanwhile, waits behind it. At Kafka's 500 ms
     * default that stalled a loaded VAE for about half a second per take. 10 ms bounds the stall; the price is an
     * idle stage consumer's 100 empty fetches a second (about 1.5 % of a core on the embedded broker).
     */
    static final int STAGE_FETCH_MAX_WAIT_MS = 10;
    /** A new consumer group starts at the beginning of its topic: nothing submitted before a stage ran is lost. */
    public static final String AUTO_OFFSET_RESET = "earliest";

    @Inject
    @Identifier("default-kafka-broker")
    Map<String, Object> kafkaConfig;

    @Inject
    PipelineConfig config;

    public String bootstrapServers() {
        Object servers = kafkaConfig.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG);
        return servers == null || servers.toString().isBlank() ? DEFAULT_BOOTSTRAP : servers.toString();
    }

    private Map<String, Object> common() {
        Map<String, Object> props = new HashMap<>(kafkaConfig);
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return props;
    }

    /**
     * A stage's consumer: manual commits (StageConsumer commits each message as soon as its output is on the
     * broker), from the beginning for a new group, cooperative rebalancing so a worker joining moves only the
     * partitions that change owner, fetches answered as soon as one record is there, and an empty fetch held only
     * briefly ({@link #STAGE_FETCH_MAX_WAIT_MS}).
     */
    public Map<String, Object> stageConsumer(String stage, String groupId, String workerId, int maxPollRecords) {
        Map<String, Object> props = common();
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId(workerId, stage));
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, AUTO_OFFSET_RESET);
        props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(1, maxPollRecords));
        props.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, 1);
        props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, STAGE_FETCH_MAX_WAIT_MS);
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, MAX_MESSAGE_BYTES);
        props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Math.max(52428800, MAX_MESSAGE_BYTES));
        props.putAll(overrides(stage));
        return props;
    }

    /**
     * The process's one producer: no batching delay (Kafka 4 clients wait 5 ms by default, per send, for more
     * records to batch: here every hop of a request would pay it), acknowledged by all in-sync replicas,
     * idempotent (a retried send cannot duplicate or reorder a request's records), large tensor messages allowed.
     */
    public Map<String, Object> producer(String clientId) {
        Map<String, Object> props = common();
        props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_MESSAGE_BYTES);
        props.putAll(overrides("producer"));
        return props;
    }

    /** A plain consumer without a group, for reading a topic's partitions by assignment. */
    public Map<String, Object> reader(String clientId) {
        Map<String, Object> props = common();
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, MAX_MESSAGE_BYTES);
        props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Math.max(52428800, MAX_MESSAGE_BYTES));
        return props;
    }

    /** A client id that names the worker in the group's description (host:pid has a colon Kafka's metrics avoid). */
    public static String clientId(String workerId, String what) {
        return workerId.replace(':', '-') + "-" + what;
    }

    /** {@code sd.kafka.<scope>.*} settings, with the prefix removed. */
    Map<String, Object> overrides(String scope) {
        return new HashMap<>(config.kafka().getOrDefault(scope, Map.of()));
    }
}
