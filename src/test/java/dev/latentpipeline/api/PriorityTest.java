package dev.latentpipeline.api;

import static dev.latentpipeline.api.Api.authed;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentpipeline.testing.RealInfrastructure;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * Priorities through every stage, one UNet job at a time (the gateway profile): high-priority work is taken first,
 * and low-priority work still gets its turn under a steady stream of high-priority work, once it has waited
 * sd.priority.max-wait. Jobs go straight to the priority topics (a Kafka producer, as trusted producers do; the
 * HTTP in-flight bound of this profile is small) and are followed through the gateway's status.
 */
@QuarkusTest
@TestProfile(GatewayTestProfile.class)
@WithTestResource(RealInfrastructure.class)
class PriorityTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    /** A second or two of UNet time with the built-in model. */
    private static final String BLOCKING = "\"prompt\":\"grey\",\"width\":1024,\"height\":1024,\"steps\":150";
    private static final String SHORT = "\"prompt\":\"red\",\"width\":64,\"height\":64,\"steps\":10";
    /** Long enough for the queue behind it to fill, well short of sd.priority.max-wait. */
    private static final String MEDIUM = "\"prompt\":\"grey\",\"width\":512,\"height\":512,\"steps\":150";

    private static String submit(KafkaProducer<String, byte[]> producer, String priority, String fields) {
        String id = "prio-" + UUID.randomUUID();
        String topic = priority.equals("normal") ? "sd.requests" : "sd.requests." + priority;
        String body = "{\"id\":\"" + id + "\",\"priority\":\"" + priority + "\"," + fields + "}";
        producer.send(new ProducerRecord<>(topic, id, body.getBytes(StandardCharsets.UTF_8)));
        return id;
    }

    /** The job's status; "unknown" until its first event reaches the gateway (it was submitted through Kafka). */
    private static String status(String id) {
        var response = authed().get("/v1/generations/" + id);
        return response.statusCode() == 404 ? "unknown" : response.then().statusCode(200).extract().path("status");
    }

    private static Instant ended(String id) {
        Instant deadline = Instant.now().plus(TIMEOUT);
        while (!Api.TERMINAL.contains(status(id))) {
            assertTrue(Instant.now().isBefore(deadline), id + " did not end in " + TIMEOUT);
            Api.sleepBriefly();
        }
        JsonPath done = Api.status(id);
        assertEquals("completed", done.getString("status"), done.prettify());
        return Instant.parse(done.getString("updated_at"));
    }

    @Test
    void aHighPriorityJobBehindTwentyLowOnesFinishesFirst() {
        List<String> low = new ArrayList<>();
        String blocker;
        String high;
        try (KafkaProducer<String, byte[]> producer = RealInfrastructure.producer()) {
            // The UNet is busy with the blocker while the rest queue up behind it, the high one last.
            blocker = submit(producer, "normal", MEDIUM);
            for (int i = 0; i < 20; i++) {
                low.add(submit(producer, "low", SHORT));
            }
            high = submit(producer, "high", SHORT);
        }
        Instant highEnded = ended(high);
        ended(blocker);
        for (String id : low) {
            Instant lowEnded = ended(id);
            assertTrue(highEnded.isBefore(lowEnded), "low job " + id + " ended at " + lowEnded
                    + ", before the high one at " + highEnded);
        }
    }

    @Test
    void lowPriorityIsServedUnderASteadyStreamOfHighPriority() throws Exception {
        List<String> highs = new ArrayList<>();
        String low;
        try (KafkaProducer<String, byte[]> producer = RealInfrastructure.producer()) {
            // Always more high-priority work waiting than the UNet can do: each takes about a second.
            for (int i = 0; i < 3; i++) {
                highs.add(submit(producer, "high", BLOCKING));
            }
            low = submit(producer, "low", SHORT);
            Instant lowSubmitted = Instant.now();
            // Keep the stream going until the low job has ended (or the deadline passes).
            Instant deadline = lowSubmitted.plus(TIMEOUT);
            while (!Api.TERMINAL.contains(status(low))) {
                assertTrue(Instant.now().isBefore(deadline), "the low-priority job never ran");
                if (highs.stream().filter(id -> !Api.TERMINAL.contains(status(id))).count() < 3) {
                    highs.add(submit(producer, "high", BLOCKING));
                    producer.flush();
                }
                Api.sleepBriefly();
            }
        }
        Instant lowEnded = ended(low);
        // High-priority jobs were still waiting when the low one ran: it did not wait for the stream to dry up.
        long highsAfter = highs.stream().filter(id -> ended(id).isAfter(lowEnded)).count();
        assertTrue(highsAfter >= 1, "every high job ended before the low one: the stream was not steady");
    }

    @Test
    void highPriorityOverHttpNeedsAnAllowedKey() {
        String body = "{\"prompt\":\"red\",\"width\":64,\"height\":64,\"steps\":2,\"priority\":\"high\"}";
        given().header("Authorization", "Bearer " + GatewayTestProfile.OTHER_KEY).contentType(ContentType.JSON)
                .body(body).post("/v1/generations")
                .then().statusCode(403).body("code", equalTo("priority_not_allowed"));
        String id = authed().contentType(ContentType.JSON).body(body).post("/v1/generations").then().statusCode(202)
                .extract().path("id");
        assertEquals("high", Api.awaitTerminal(id, TIMEOUT).getString("parameters.priority"));
    }
}
