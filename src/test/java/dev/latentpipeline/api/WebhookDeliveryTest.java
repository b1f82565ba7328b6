package dev.latentpipeline.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.latentpipeline.testing.RealInfrastructure;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Webhooks to a real local receiver (a JDK HttpServer on loopback, which the test profile admits): signature
 * verified the way a receiver would, retries after failures, and dead-lettering when the receiver never succeeds.
 */
@QuarkusTest
@TestProfile(GatewayTestProfile.class)
@WithTestResource(RealInfrastructure.class)
class WebhookDeliveryTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    record Delivery(Map<String, String> headers, String body) {
    }

    private HttpServer receiver;
    private final Map<String, List<Delivery>> received = new ConcurrentHashMap<>();
    private final AtomicInteger flakyCalls = new AtomicInteger();

    @BeforeEach
    void startReceiver() throws IOException {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Map<String, String> headers = new ConcurrentHashMap<>();
            exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(), v.get(0)));
            received.computeIfAbsent(path, k -> new CopyOnWriteArrayList<>()).add(new Delivery(headers, body));
            int status = switch (path) {
                case "/flaky" -> flakyCalls.incrementAndGet() <= 2 ? 503 : 204;
                case "/never" -> 500;
                default -> 200;
            };
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        receiver.start();
    }

    @AfterEach
    void stopReceiver() {
        receiver.stop(0);
    }

    private String callback(String path) {
        return "http://127.0.0.1:" + receiver.getAddress().getPort() + path;
    }

    private List<Delivery> awaitDeliveries(String path, int count) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (received.getOrDefault(path, List.of()).size() < count) {
            assertTrue(System.nanoTime() < deadline, "fewer than " + count + " deliveries to " + path);
            Api.sleepBriefly();
        }
        return received.get(path);
    }

    /** What a receiver does (README, "Webhooks"): recompute the HMAC over "id.timestamp.body" with the secret. */
    static void verify(Delivery d) throws Exception {
        String id = d.headers().get("webhook-id");
        String timestamp = d.headers().get("webhook-timestamp");
        byte[] key = Base64.getDecoder().decode(GatewayTestProfile.SECRET.substring("whsec_".length()));
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        String expected = Base64.getEncoder().encodeToString(
                mac.doFinal((id + "." + timestamp + "." + d.body()).getBytes(StandardCharsets.UTF_8)));
        boolean match = false;
        for (String signature : d.headers().get("webhook-signature").split(" ")) {
            match |= signature.equals("v1," + expected);
        }
        assertTrue(match, "signature does not verify: " + d.headers());
        long age = Math.abs(Instant.now().getEpochSecond() - Long.parseLong(timestamp));
        assertTrue(age < 300, "timestamp too far off: " + timestamp);
    }

    @Test
    void aCompletedJobIsPostedSigned() throws Exception {
        String id = Api.submit("{\"prompt\":\"cyan\",\"width\":16,\"height\":16,\"steps\":2,\"callback_url\":\""
                + callback("/ok") + "\"}");
        Delivery d = awaitDeliveries("/ok", 1).get(0);
        verify(d);
        assertEquals("msg_" + id, d.headers().get("webhook-id"));
        JsonNode payload = JSON.readTree(d.body());
        assertEquals("generation.completed", payload.get("type").asText());
        assertEquals(id, payload.get("data").get("id").asText());
        assertTrue(payload.get("data").get("images").get(0).get("url").asText().startsWith("http"));

        // A tampered body does not verify.
        Delivery tampered = new Delivery(d.headers(), d.body().replace("completed", "failed"));
        assertThrowsAssertion(() -> verify(tampered));
    }

    private static void assertThrowsAssertion(org.junit.jupiter.api.function.Executable e) {
        try {
            e.execute();
        } catch (AssertionError expected) {
            return;
        } catch (Throwable other) {
            throw new AssertionError(other);
        }
        throw new AssertionError("expected verification to fail");
    }

    @Test
    void aReceiverThatFailsTwiceGetsItOnTheThirdAttempt() throws Exception {
        String id = Api.submit("{\"prompt\":\"magenta\",\"width\":16,\"height\":16,\"steps\":2,\"callback_url\":\""
                + callback("/flaky") + "\"}");
        List<Delivery> deliveries = awaitDeliveries("/flaky", 3);
        for (Delivery d : deliveries) {
            verify(d);
            assertEquals("msg_" + id, d.headers().get("webhook-id"), "the same id on every attempt, for dedup");
        }
        // Delivered: no further attempts after the success.
        long quietUntil = System.nanoTime() + Duration.ofMillis(2500).toNanos();
        while (System.nanoTime() < quietUntil) {
            Api.sleepBriefly();
        }
        assertEquals(3, received.get("/flaky").size());
    }

    @Test
    void aReceiverThatNeverSucceedsIsDeadLettered() throws Exception {
        String id = Api.submit("{\"prompt\":\"orange\",\"width\":16,\"height\":16,\"steps\":2,\"callback_url\":\""
                + callback("/never") + "\"}");
        try (KafkaConsumer<String, byte[]> dead = RealInfrastructure.consumer()) {
            dead.subscribe(List.of("sd.webhooks.dead"));
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            JsonNode letter = null;
            while (letter == null) {
                assertTrue(System.nanoTime() < deadline, "no dead letter for " + id);
                for (ConsumerRecord<String, byte[]> r : dead.poll(Duration.ofMillis(200))) {
                    if (id.equals(r.key())) {
                        letter = JSON.readTree(r.value());
                    }
                }
            }
            assertEquals(callback("/never"), letter.get("url").asText());
            assertEquals("HTTP 500", letter.get("last_error").asText());
            int attempts = letter.get("attempts").asInt();
            assertTrue(attempts >= 3, "retried with backoff before giving up: " + attempts);
            assertEquals(attempts, received.get("/never").size());
            assertEquals("msg_" + id, letter.get("webhook_id").asText());
        }
    }
}
