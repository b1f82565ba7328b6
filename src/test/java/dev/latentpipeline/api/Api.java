package dev.latentpipeline.api;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentpipeline.testing.RealInfrastructure;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.utils.Utils;

/** What an HTTP client of the gateway does, with the test API key. */
final class Api {
    static final Set<String> TERMINAL = Set.of("completed", "failed", "cancelled");

    private Api() {
    }

    static RequestSpecification authed() {
        return given().header("Authorization", "Bearer " + GatewayTestProfile.KEY);
    }

    static String submit(String body) {
        return authed().contentType(ContentType.JSON).body(body).post("/v1/generations")
                .then().statusCode(202).extract().path("id");
    }

    static JsonPath status(String id) {
        return authed().get("/v1/generations/" + id).then().statusCode(200).extract().jsonPath();
    }

    /** Polls the status until the job ends; the gateway's state follows sd.events within milliseconds. */
    static JsonPath awaitTerminal(String id, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonPath status = status(id);
            if (TERMINAL.contains(status.getString("status"))) {
                return status;
            }
            assertTrue(System.nanoTime() < deadline, "generation " + id + " did not end in " + timeout + ": "
                    + status.prettify());
            sleepBriefly();
        }
    }

    static void sleepBriefly() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static String newId() {
        return "h-" + UUID.randomUUID();
    }

    /** Partitions of the pipeline's topics (the app creates them all alike). */
    static int partitions() {
        try (KafkaConsumer<String, byte[]> consumer = RealInfrastructure.consumer()) {
            return consumer.partitionsFor("sd.embeddings").size();
        }
    }

    /** A fresh id whose messages land on {@code partition} (Kafka's default partitioner: murmur2 of the key). */
    static String newIdOn(int partition, int partitions) {
        while (true) {
            String id = newId();
            if (Utils.toPositive(Utils.murmur2(id.getBytes(StandardCharsets.UTF_8))) % partitions == partition) {
                return id;
            }
        }
    }

    /**
     * One tiny job through each partition, so the gateway has seen which UNet worker serves every partition (in the
     * test JVM one worker serves them all, so they all form one line).
     */
    static void denoiseOnEveryPartition() {
        int partitions = partitions();
        List<String> ids = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            String id = newIdOn(p, partitions);
            submit("{\"id\":\"" + id + "\",\"prompt\":\"white\",\"width\":8,\"height\":8,\"steps\":1}");
            ids.add(id);
        }
        ids.forEach(id -> assertEquals("completed", awaitTerminal(id, Duration.ofSeconds(60)).getString("status")));
    }
}
