package dev.latentpipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 3's promise, "a gateway restart in the middle of a job loses neither the job's status nor its webhook",
 * against the packaged app: one gateway process and one stage process (text-encoder, unet, vae) sharing the broker
 * and S3 server in this JVM, a webhook receiver in this JVM. The gateway is killed with kill -9 while jobs run and a
 * new one is started on the same port. Three jobs cover the three ways a restart can meet a webhook:
 * <ul>
 * <li>C ended before the kill, and its only delivery attempt failed: the new gateway delivers it again, with the
 * same webhook-id;</li>
 * <li>A ends while no gateway runs: the new gateway finds it in sd.events and delivers it;</li>
 * <li>B is mid-loop when the new gateway starts (the stage process is frozen with SIGSTOP meanwhile, so this does
 * not depend on timing) and ends afterwards: the new gateway follows it live.</li>
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayRestartIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    static final Duration RUN_TIMEOUT = Duration.ofSeconds(90);
    /** 32 random bytes, Standard Webhooks form. */
    static final String SECRET = "whsec_" + Base64.getEncoder().encodeToString(
            "gateway-restart-it-secret-32byte".getBytes(StandardCharsets.US_ASCII));
    /**
     * Two equal jobs, long enough that the kill and the freeze land mid-loop with seconds to spare. The stage
     * process runs one job at a time, so the second starts only when the first has ended. Each loop outlasts
     * noticing an event and stopping a process by seconds (B is frozen mid-loop; A ends after the kill): 8 images x
     * 600 steps took about 5 s here. Needs sd.limits.max-steps raised (LIMITS).
     */
    static final String LONG_JOB = "\"width\":512,\"height\":512,\"num_images\":8,\"steps\":600,\"scheduler\":\"euler\","
            + "\"guidance_scale\":3";
    static final Map<String, String> LIMITS = Map.of("SD_LIMITS_MAX_STEPS", "600");
    static final String JOB_C = "\"prompt\":\"green\",\"width\":16,\"height\":16,\"steps\":2,\"seed\":13";

    record Delivery(Map<String, String> headers, String body) {
    }

    private final RealInfrastructure infrastructure = new RealInfrastructure();
    private final Path workDir = Path.of("target", "gateway-restart-it").toAbsolutePath();
    private final HttpClient http = HttpClient.newHttpClient();
    private final Map<String, List<Delivery>> received = new ConcurrentHashMap<>();
    private final Map<String, AppProcess> processes = new HashMap<>();
    private HttpServer receiver;
    private EventLog events;
    private int gatewayPort;
    private AppProcess stages;

    @BeforeAll
    void start() throws IOException {
        infrastructure.start();
        // The receiver refuses the first attempt to /c, so that webhook is still owed when the gateway dies.
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            Map<String, String> headers = new HashMap<>();
            exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(), v.get(0)));
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            List<Delivery> list = received.computeIfAbsent(path, k -> new CopyOnWriteArrayList<>());
            list.add(new Delivery(headers, body));
            exchange.sendResponseHeaders(path.equals("/c") && list.size() == 1 ? 503 : 204, -1);
            exchange.close();
        });
        receiver.start();
        try (ServerSocket free = new ServerSocket(0)) {
            gatewayPort = free.getLocalPort();
        }
        // One UNet job at a time (no batching): B waits for A, so B is still mid-loop when the new gateway starts.
        stages = start("text-encoder,unet,vae", "stages-1", Map.of("SD_UNET_CHECKPOINT_EVERY", "never",
                "SD_UNET_MAX_BATCH", "1", "SD_EVENTS_PROGRESS_EVERY", "10",
                "SD_LIMITS_MAX_STEPS", LIMITS.get("SD_LIMITS_MAX_STEPS")));
        AppProcess gateway = startGateway("gateway-1");
        stages.awaitStarted(START_TIMEOUT);
        gateway.awaitStarted(START_TIMEOUT);
        events = new EventLog(RealInfrastructure.bootstrapServers(), "sd.events");
    }

    AppProcess start(String roles, String name, Map<String, String> extra) {
        Map<String, String> env = AppProcess.roleEnv(roles, name, RealInfrastructure.bootstrapServers(),
                RealInfrastructure.s3Endpoint(), RealInfrastructure.ACCESS_KEY, RealInfrastructure.SECRET_KEY,
                workDir.resolve(name).resolve("model"));
        env.putAll(extra);
        AppProcess process = AppProcess.start(name, workDir.resolve(name), env, Map.of());
        processes.put(name, process);
        return process;
    }

    /** Each gateway on the same port, as a restarted pod behind one Service would be. */
    AppProcess startGateway(String name) {
        return start("gateway", name, Map.of("QUARKUS_HTTP_PORT", Integer.toString(gatewayPort),
                "SD_WEBHOOK_SECRET", SECRET, "SD_WEBHOOK_ALLOW", "127.0.0.0/8",
                // A failed delivery is not retried before the kill: the retry is the new gateway's to make.
                "SD_WEBHOOK_INITIAL_BACKOFF", "10m", "SD_LIMITS_MAX_STEPS", LIMITS.get("SD_LIMITS_MAX_STEPS"),
                // The killed gateway's webhook share moves to the new one once its session ends.
                "SD_WEBHOOK_SESSION_TIMEOUT", "6s"));
    }

    @AfterAll
    void stop() {
        if (stages != null && stages.isAlive()) {
            stages.resume(); // in case a failure left it frozen; SIGKILL works either way
        }
        processes.values().forEach(AppProcess::close);
        if (receiver != null) {
            receiver.stop(0);
        }
        if (events != null) {
            events.close();
        }
        infrastructure.stop();
    }

    @Test
    void aRestartedGatewayKeepsEveryJobsStatusAndWebhook() throws Exception {
        AppProcess gateway1 = processes.get("gateway-1");
        String c = submit(JOB_C, "/c");
        awaitDeliveries("/c", 1);
        assertEquals("completed", get(c).get("status").asText());

        String j1 = submit("\"prompt\":\"a blue square\",\"seed\":11," + LONG_JOB, "/a");
        String j2 = submit("\"prompt\":\"a red circle\",\"seed\":12," + LONG_JOB, "/b");
        // A is whichever loop starts first; B waits for it.
        String a = events.await(e -> Set.of(j1, j2).contains(e.get("request_id").asText())
                && e.get("type").asText().equals("denoising") && e.get("step").asInt() >= 1, RUN_TIMEOUT)
                .get("request_id").asText();
        String b = a.equals(j1) ? j2 : j1;
        String pathA = a.equals(j1) ? "/a" : "/b";
        String pathB = a.equals(j1) ? "/b" : "/a";
        JsonNode paramsA = get(a).get("parameters");
        JsonNode paramsB = get(b).get("parameters");
        gateway1.killHard();
        Instant killed = Instant.now();

        // A ends with no gateway running.
        JsonNode doneA = events.awaitTerminal(List.of(a), RUN_TIMEOUT, this::diagnostics).get(a);
        assertEquals("completed", doneA.get("type").asText(), doneA::toString);
        assertTrue(Instant.parse(doneA.get("time").asText()).isAfter(killed),
                "A ended before the gateway was killed; the test needs a longer job A");
        // B is mid-loop; freezing the stage process keeps it there while the new gateway starts.
        events.await(e -> e.get("request_id").asText().equals(b) && e.get("type").asText().equals("denoising")
                && e.get("step").asInt() >= 1, RUN_TIMEOUT);
        stages.pause();
        try {
            startGateway("gateway-2").awaitStarted(START_TIMEOUT);
            JsonNode b2 = awaitStatus(b, s -> true);
            assertFalse(Set.of("completed", "failed", "cancelled").contains(b2.get("status").asText()),
                    "B ended before the new gateway started; the test needs a longer job B: " + b2);
            assertEquals("denoising", b2.get("status").asText(), b2::toString);
            assertEquals(paramsB, b2.get("parameters"));
            // The margins the job sizes leave on this machine, for tuning LONG_JOB.
            System.out.printf("GatewayRestartIT: A completed %d ms after the kill; B frozen at step %s%n",
                    Duration.between(killed, Instant.parse(doneA.get("time").asText())).toMillis(),
                    b2.get("progress"));
            assertTrue(received.getOrDefault(pathB, List.of()).isEmpty(), "B's webhook came before B ended");
        } finally {
            stages.resume();
        }

        // The new gateway knows all three jobs, each under its id with the parameters submitted to the old one.
        JsonNode a2 = awaitStatus(a, s -> s.get("status").asText().equals("completed"));
        assertEquals(a, a2.get("id").asText());
        assertEquals(paramsA, a2.get("parameters"));
        JsonNode b2 = awaitStatus(b, s -> s.get("status").asText().equals("completed"));
        assertEquals(paramsB, b2.get("parameters"));
        assertEquals("completed", get(c).get("status").asText());

        // Each owed webhook arrives once it is recorded as delivered; nothing is sent twice, and C's retry carries
        // the webhook-id of the attempt the old gateway made.
        awaitRecordedDelivered(Set.of(a, b, c));
        Map<String, JsonNode> params = Map.of(a, paramsA, b, paramsB);
        for (Map.Entry<String, String> job : Map.of(pathA, a, pathB, b).entrySet()) {
            List<Delivery> deliveries = received.get(job.getKey());
            assertEquals(1, deliveries.size(), () -> job.getKey() + " got " + deliveries);
            assertTerminalWebhook(deliveries.get(0), job.getValue(), params.get(job.getValue()));
        }
        List<Delivery> toC = received.get("/c");
        assertEquals(2, toC.size(), () -> "/c got " + toC);
        assertTerminalWebhook(toC.get(0), c, null);
        assertTerminalWebhook(toC.get(1), c, null);
        assertEquals(toC.get(0).headers().get("webhook-id"), toC.get(1).headers().get("webhook-id"));
        assertEquals(0, processes.get("gateway-2").output().lines()
                .filter(l -> l.contains("dead-lettered")).count());
    }

    /** Exactly the terminal event, signed with the secret, under the id a receiver deduplicates on. */
    static void assertTerminalWebhook(Delivery d, String id, JsonNode parameters) throws Exception {
        verifySignature(d);
        assertEquals("msg_" + id, d.headers().get("webhook-id"));
        JsonNode payload = JSON.readTree(d.body());
        assertEquals("generation.completed", payload.get("type").asText(), d::body);
        JsonNode data = payload.get("data");
        assertEquals(id, data.get("id").asText());
        assertEquals("completed", data.get("status").asText());
        assertFalse(data.get("images").isEmpty(), d::body);
        if (parameters != null) {
            assertEquals(parameters, data.get("parameters"));
        }
    }

    /** What a receiver does: HMAC-SHA256 over "id.timestamp.body" with the secret's bytes. */
    static void verifySignature(Delivery d) throws Exception {
        String id = d.headers().get("webhook-id");
        String timestamp = d.headers().get("webhook-timestamp");
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(Base64.getDecoder().decode(SECRET.substring("whsec_".length())), "HmacSHA256"));
        String expected = "v1," + Base64.getEncoder().encodeToString(
                mac.doFinal((id + "." + timestamp + "." + d.body()).getBytes(StandardCharsets.UTF_8)));
        assertTrue(List.of(d.headers().get("webhook-signature").split(" ")).contains(expected),
                () -> "signature does not verify: " + d.headers());
    }

    String submit(String fields, String callbackPath) throws Exception {
        String body = "{" + fields + ",\"callback_url\":\"http://127.0.0.1:" + receiver.getAddress().getPort()
                + callbackPath + "\"}";
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(gateway("")).header("Content-Type",
                "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(202, response.statusCode(), response::body);
        return JSON.readTree(response.body()).get("id").asText();
    }

    URI gateway(String path) {
        return URI.create("http://127.0.0.1:" + gatewayPort + "/v1/generations" + path);
    }

    JsonNode get(String id) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(gateway("/" + id)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response::body);
        return JSON.readTree(response.body());
    }

    /** Polls GET until it answers 200 (a starting gateway answers 503 until it has read sd.events) and matches. */
    JsonNode awaitStatus(String id, Predicate<JsonNode> wanted) throws Exception {
        long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
        while (true) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(gateway("/" + id)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 200 && wanted.test(JSON.readTree(response.body()))) {
                return JSON.readTree(response.body());
            }
            assertTrue(response.statusCode() == 200 || response.statusCode() == 503, response::body);
            assertTrue(System.nanoTime() < deadline, () -> id + " did not reach the wanted state: "
                    + response.body() + "\n" + diagnostics());
            briefly();
        }
    }

    List<Delivery> awaitDeliveries(String path, int count) {
        long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
        while (received.getOrDefault(path, List.of()).size() < count) {
            assertTrue(System.nanoTime() < deadline, () -> "fewer than " + count + " deliveries to " + path
                    + "\n" + diagnostics());
            briefly();
        }
        return received.get(path);
    }

    /** Waits until the gateway has recorded each job's webhook as delivered on sd.webhook-deliveries. */
    void awaitRecordedDelivered(Set<String> ids) {
        Map<String, String> state = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, RealInfrastructure.bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"), new StringDeserializer(),
                new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor("sd.webhook-deliveries").stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
            while (!ids.stream().allMatch(id -> "delivered".equals(state.get(id)))) {
                assertTrue(System.nanoTime() < deadline, () -> "deliveries recorded: " + state + "\n"
                        + diagnostics());
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    try {
                        state.put(r.key(), JSON.readTree(r.value()).get("state").asText());
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
        }
    }

    String diagnostics() {
        StringBuilder out = new StringBuilder("webhooks received: " + received.keySet() + "\n");
        processes.forEach((name, p) -> out.append("---- ").append(name).append(p.isAlive() ? "" : " (exited)")
                .append('\n').append(p.tail()).append('\n'));
        return out.toString();
    }

    /** Between polls of a condition (HTTP state or received webhooks); the condition is what is awaited. */
    static void briefly() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
