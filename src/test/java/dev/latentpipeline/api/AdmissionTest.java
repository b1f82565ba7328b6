package dev.latentpipeline.api;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latentpipeline.api.status.StatusStore;
import dev.latentpipeline.testing.RealInfrastructure;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Issue 13: "200 concurrent POSTs admit at most max-in-flight jobs". The bound is checked against what the gateway
 * knew at each admission, read back from the jobs' own times: at no instant are more than max-in-flight admitted
 * jobs unfinished (a job that ends during the burst frees its place, so the admitted total may exceed the bound).
 */
@QuarkusTest
@TestProfile(GatewayTestProfile.class)
@WithTestResource(RealInfrastructure.class)
class AdmissionTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CONCURRENT = 200;
    /** Seconds of work each, so the burst meets a full pipeline rather than one that drains as it is filled. */
    private static final String LONG_JOB = "{\"prompt\":\"grey\",\"width\":512,\"height\":512,\"steps\":150,"
            + "\"num_images\":4}";

    @TestHTTPResource("/v1/generations")
    URL api;
    @Inject
    StatusStore store;

    @Test
    void concurrentSubmissionsNeverExceedMaxInFlight() throws Exception {
        await().atMost(Duration.ofSeconds(90)).until(() -> store.inFlightCount() == 0);
        HttpClient http = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(8)).build();
        HttpRequest post = HttpRequest.newBuilder(api.toURI()).header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + GatewayTestProfile.KEY)
                .POST(HttpRequest.BodyPublishers.ofString(LONG_JOB)).build();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<HttpResponse<String>>> answers = new ArrayList<>();
        ExecutorService clients = Executors.newFixedThreadPool(CONCURRENT);
        try {
            for (int i = 0; i < CONCURRENT; i++) {
                answers.add(clients.submit(() -> {
                    go.await();
                    return http.send(post, HttpResponse.BodyHandlers.ofString());
                }));
            }
            go.countDown();
        } finally {
            clients.shutdown();
        }
        List<String> admitted = new ArrayList<>();
        int refused = 0;
        for (Future<HttpResponse<String>> answer : answers) {
            HttpResponse<String> response = answer.get();
            JsonNode body = JSON.readTree(response.body());
            if (response.statusCode() == 202) {
                admitted.add(body.get("id").asText());
            } else {
                assertEquals(429, response.statusCode(), response::body);
                assertEquals("too_busy", body.get("code").asText());
                assertTrue(response.headers().firstValue("Retry-After").isPresent());
                refused++;
            }
        }
        try {
            assertTrue(admitted.size() >= 1 && refused >= 1, admitted.size() + " admitted, " + refused + " refused");
        } finally {
            admitted.forEach(id -> Api.authed().delete("/v1/generations/" + id));
        }
        // Each admitted job is unfinished from its queued event to its terminal one; count the overlap.
        Map<Instant, Integer> changes = new TreeMap<>();
        for (String id : admitted) {
            JsonPath end = Api.awaitTerminal(id, Duration.ofSeconds(90));
            changes.merge(Instant.parse(end.getString("created_at")), 1, Integer::sum);
            changes.merge(Instant.parse(end.getString("updated_at")), -1, Integer::sum);
        }
        int unfinished = 0;
        int most = 0;
        for (int change : changes.values()) {
            unfinished += change;
            most = Math.max(most, unfinished);
        }
        System.out.printf("AdmissionTest: %d concurrent POSTs, %d admitted, at most %d unfinished at once%n",
                CONCURRENT, admitted.size(), most);
        assertTrue(most <= GatewayTestProfile.MAX_IN_FLIGHT, most + " admitted jobs unfinished at once, against "
                + GatewayTestProfile.MAX_IN_FLIGHT + " (" + admitted.size() + " admitted in all)");
    }
}
