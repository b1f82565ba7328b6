package dev.latentpipeline.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.latentpipeline.testing.AppProcess;
import dev.latentpipeline.testing.RealInfrastructure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 13: "two gateways, one receiver: one delivery per job", against the packaged app. Two gateway processes
 * share webhook deliveries through the consumer group sd-gateway-webhooks: "gw-stages" also runs every stage (one
 * JVM fewer to start), "gw-only" is the gateway alone. One receiver in this JVM counts the deliveries it answered 2xx,
 * per job. Then gw-only is killed with -9 while a delivery of its share is in hand; gw-stages takes its partitions
 * over and delivers what was not recorded as delivered.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayReplicasIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    static final Duration RUN_TIMEOUT = Duration.ofSeconds(60);
    static final String SECRET = "whsec_" + Base64.getEncoder().encodeToString(
            "gateway-replicas-it-secret-32byt".getBytes(StandardCharsets.US_ASCII));
    static final String GROUP = "sd-gateway-webhooks";
    static final String JOB = "\"prompt\":\"teal\",\"width\":16,\"height\":16,\"steps\":2";

    /** One request the receiver saw, and the status it answered with. */
    record Delivery(String webhookId, int answered) {
    }

    private final RealInfrastructure infrastructure = new RealInfrastructure();
    private final Path workDir = Path.of("target", "gateway-replicas-it").toAbsolutePath();
    private final HttpClient http = HttpClient.newHttpClient();
    private final Map<String, List<Delivery>> received = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> attemptsSeen = new ConcurrentHashMap<>();
    /** Jobs whose first attempt is held until {@link #release} opens, then answered 503. */
    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch holding = new CountDownLatch(1);
    private final Map<String, AppProcess> gateways = new LinkedHashMap<>();
    private final Map<String, Integer> ports = new HashMap<>();
    private HttpServer receiver;
    private int partitions;

    @BeforeAll
    void start() throws IOException {
        infrastructure.start();
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.setExecutor(Executors.newCachedThreadPool()); // a held attempt must not hold up the others
        receiver.createContext("/", this::receive);
        receiver.start();
        for (String name : List.of("gw-stages", "gw-only")) {
            try (ServerSocket free = new ServerSocket(0)) {
                ports.put(name, free.getLocalPort());
            }
            Map<String, String> env = AppProcess.roleEnv(name.equals("gw-stages") ? "all" : "gateway", name,
                    RealInfrastructure.bootstrapServers(), RealInfrastructure.s3Endpoint(),
                    RealInfrastructure.ACCESS_KEY, RealInfrastructure.SECRET_KEY,
                    workDir.resolve(name).resolve("model"));
            env.putAll(Map.of("QUARKUS_HTTP_PORT", Integer.toString(ports.get(name)), "SD_WEBHOOK_SECRET", SECRET,
                    "SD_WEBHOOK_ALLOW", "127.0.0.0/8", "SD_WEBHOOK_INITIAL_BACKOFF", "200ms",
                    // The broker's smallest session timeout: a dead replica's share moves after 6 s.
                    "SD_WEBHOOK_SESSION_TIMEOUT", "6s"));
            gateways.put(name, AppProcess.start(name, workDir.resolve(name), env, Map.of()));
        }
        for (AppProcess gateway : gateways.values()) {
            gateway.awaitStarted(START_TIMEOUT);
        }
        try (KafkaConsumer<String, String> c = consumer()) {
            partitions = c.partitionsFor("sd.events").size();
        }
        await().atMost(RUN_TIMEOUT).until(() -> shares().size() == 2);
    }

    @AfterAll
    void stop() {
        release.countDown();
        gateways.values().forEach(AppProcess::close);
        if (receiver != null) {
            receiver.stop(0);
        }
        infrastructure.stop();
    }

    /** /ok: 204; /flaky: 503 on the first attempt; /hold: the first attempt waits for {@link #release}, then 503. */
    private void receive(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        exchange.getRequestBody().readAllBytes();
        List<Delivery> attempts = received.computeIfAbsent(path, k -> new CopyOnWriteArrayList<>());
        boolean first = attemptsSeen.computeIfAbsent(path, k -> new AtomicInteger()).getAndIncrement() == 0;
        int status = 204;
        if (first && path.startsWith("/flaky/")) {
            status = 503;
        } else if (first && path.startsWith("/hold/")) {
            holding.countDown();
            try {
                release.await(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            status = 503;
        }
        attempts.add(new Delivery(exchange.getRequestHeaders().getFirst("webhook-id"), status));
        try {
            exchange.sendResponseHeaders(status, -1);
        } catch (IOException e) {
            // The sender is gone (killed mid-delivery): nothing was delivered.
        }
        exchange.close();
    }

    private long successes(String path) {
        return received.getOrDefault(path, List.of()).stream().filter(d -> d.answered() / 100 == 2).count();
    }

    @Test
    @Order(1)
    void eachJobIsDeliveredOnceThoughTwoReplicasRun() throws Exception {
        // Three jobs per partition, submitted alternately to both gateways; every other one fails its first attempt.
        List<String> ids = idsOn(Set.copyOf(partitionRange()), 3);
        Map<String, String> paths = new LinkedHashMap<>();
        for (int i = 0; i < ids.size(); i++) {
            String path = (i % 2 == 0 ? "/ok/" : "/flaky/") + ids.get(i);
            paths.put(ids.get(i), path);
            submit(i % 2 == 0 ? "gw-stages" : "gw-only", ids.get(i), path);
        }
        Map<String, JsonNode> outcomes = awaitOutcomes(Set.copyOf(ids));
        for (Map.Entry<String, String> job : paths.entrySet()) {
            await().atMost(RUN_TIMEOUT).until(() -> successes(job.getValue()) >= 1);
        }
        // A second sender would deliver at about the same moment as the first: a quiet spell shows there is none.
        long quietUntil = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (System.nanoTime() < quietUntil) {
            briefly();
        }
        for (Map.Entry<String, String> job : paths.entrySet()) {
            List<Delivery> attempts = received.get(job.getValue());
            assertEquals(1, successes(job.getValue()), () -> job.getValue() + " got " + attempts);
            assertEquals(job.getValue().startsWith("/flaky/") ? 2 : 1, attempts.size(), attempts::toString);
            assertTrue(attempts.stream().allMatch(d -> d.webhookId().equals("msg_" + job.getKey())));
        }
        assertEquals(Set.copyOf(ids), recordsPerJob().entrySet().stream().filter(e -> e.getValue() == 1)
                .map(Map.Entry::getKey).filter(ids::contains).collect(Collectors.toSet()),
                "one outcome recorded per job: " + recordsPerJob());
        Set<String> senders = outcomes.values().stream().map(o -> o.get("worker").asText())
                .collect(Collectors.toSet());
        assertEquals(Set.of("gw-stages", "gw-only"), senders, "both replicas delivered their share");
    }

    @Test
    @Order(2)
    void aReplicaKilledMidDeliveryHandsItsWebhooksOver() throws Exception {
        Set<Integer> share = shares().get("sd-webhooks-gw-only");
        String held = idsOn(share, 1).get(0);
        submit("gw-only", held, "/hold/" + held);
        assertTrue(holding.await(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS), "no attempt reached the receiver");
        gateways.get("gw-only").killHard();
        release.countDown();
        // A job of the dead replica's share that ends while nobody holds that share.
        String orphan = idsOn(share, 1).get(0);
        submit("gw-stages", orphan, "/ok/" + orphan);

        Map<String, JsonNode> outcomes = awaitOutcomes(Set.of(held, orphan));
        assertEquals("gw-stages", outcomes.get(held).get("worker").asText());
        assertEquals("gw-stages", outcomes.get(orphan).get("worker").asText());
        await().atMost(RUN_TIMEOUT).until(() -> successes("/hold/" + held) == 1 && successes("/ok/" + orphan) == 1);
        List<Delivery> attempts = received.get("/hold/" + held);
        assertEquals(2, attempts.size(), attempts::toString);
        assertEquals(503, attempts.get(0).answered());
        assertEquals(1, received.get("/ok/" + orphan).size());
    }

    private List<Integer> partitionRange() {
        List<Integer> all = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            all.add(p);
        }
        return all;
    }

    /** Fresh ids, {@code perPartition} of them on each of {@code wanted} (Kafka's default partitioner). */
    private List<String> idsOn(Set<Integer> wanted, int perPartition) {
        Map<Integer, Integer> count = new HashMap<>();
        List<String> ids = new ArrayList<>();
        while (ids.size() < wanted.size() * perPartition) {
            String id = "rep-" + UUID.randomUUID();
            int p = Utils.toPositive(Utils.murmur2(id.getBytes(StandardCharsets.UTF_8))) % partitions;
            if (wanted.contains(p) && count.merge(p, 1, Integer::sum) <= perPartition) {
                ids.add(id);
            }
        }
        return ids;
    }

    void submit(String gateway, String id, String callbackPath) throws Exception {
        String body = "{\"id\":\"" + id + "\"," + JOB + ",\"callback_url\":\"http://127.0.0.1:"
                + receiver.getAddress().getPort() + callbackPath + "\"}";
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + ports.get(gateway) + "/v1/generations"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(202, response.statusCode(), response::body);
    }

    /** Partitions of sd.events each member of the delivery group holds, by client id, once the group is stable. */
    Map<String, Set<Integer>> shares() {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                RealInfrastructure.bootstrapServers()))) {
            ConsumerGroupDescription group = admin.describeConsumerGroups(Set.of(GROUP)).all().get(10, TimeUnit.SECONDS)
                    .get(GROUP);
            if (group.groupState() != GroupState.STABLE) {
                return Map.of();
            }
            return group.members().stream().filter(m -> !m.assignment().topicPartitions().isEmpty())
                    .collect(Collectors.toMap(MemberDescription::clientId, m -> m.assignment().topicPartitions()
                            .stream().map(TopicPartition::partition).collect(Collectors.toSet())));
        } catch (Exception e) {
            throw new IllegalStateException("cannot describe " + GROUP, e);
        }
    }

    /** Waits until each job's webhook outcome is recorded as delivered; returns the last record of each. */
    Map<String, JsonNode> awaitOutcomes(Set<String> ids) {
        Map<String, JsonNode> last = new HashMap<>();
        try (KafkaConsumer<String, String> c = consumer()) {
            List<TopicPartition> all = c.partitionsFor("sd.webhook-deliveries").stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            c.assign(all);
            c.seekToBeginning(all);
            long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
            while (!ids.stream().allMatch(id -> last.containsKey(id)
                    && "delivered".equals(last.get(id).get("state").asText()))) {
                assertTrue(System.nanoTime() < deadline, () -> "outcomes recorded: " + last.keySet()
                        + "\nreceived: " + received + "\n" + diagnostics());
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    last.put(r.key(), read(r.value()));
                }
            }
        }
        return last;
    }

    /** How many outcome records each job has on sd.webhook-deliveries (not compacted yet in a test this short). */
    Map<String, Integer> recordsPerJob() {
        Map<String, Integer> count = new HashMap<>();
        try (KafkaConsumer<String, String> c = consumer()) {
            List<TopicPartition> all = c.partitionsFor("sd.webhook-deliveries").stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            c.assign(all);
            c.seekToBeginning(all);
            Map<TopicPartition, Long> end = c.endOffsets(all);
            while (!all.stream().allMatch(p -> c.position(p) >= end.get(p))) {
                c.poll(Duration.ofMillis(200)).forEach(r -> count.merge(r.key(), 1, Integer::sum));
            }
        }
        return count;
    }

    static KafkaConsumer<String, String> consumer() {
        return new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                RealInfrastructure.bootstrapServers(), ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"),
                new StringDeserializer(), new StringDeserializer());
    }

    static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String diagnostics() {
        StringBuilder out = new StringBuilder();
        gateways.forEach((name, p) -> out.append("---- ").append(name).append(p.isAlive() ? "" : " (exited)")
                .append('\n').append(p.tail()).append('\n'));
        return out.toString();
    }

    /** Between checks of the receiver during the quiet spell; what is asserted is what arrived. */
    static void briefly() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
