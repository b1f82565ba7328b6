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
 * and low-priority work still gets every 4th turn (sd.priority.share) under a steady stream of high-priority work.
 * Jobs go straight to the priority topics (a Kafka producer, as trusted producers do; the HTTP in-flight bound of
 * this profile is small) and are followed through the gateway's status.
 */
@QuarkusTest
@TestProfile(GatewayTestProfile.class)
@WithTestResource(RealInfrastructure.class)
class PriorityTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    /** A second or two of UNet time with the built-in model. */
    private static final String BLOCKING = "\"prompt\":\"grey\",\"width\":1024,\"height\":1024,\"steps\":150";
    private static final String SHORT = "\"prompt\":\"red\",\"width\":64,\"height\":64,\"steps\":10";
    /** Long enough for the queue behind it to fill. */
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
            // The UNet is busy with the blocker while the rest queue up behind it, the high one last. Sent together,
            // the text encoder could take a low one first (its consumer fetches each topic on its own), and the UNet
            // would run that before the blocker and the high one: the rest go once the blocker is running.
            blocker = submit(producer, "normal", BLOCKING);
            producer.flush();
            Instant deadline = Instant.now().plus(TIMEOUT);
            while (!"denoising".equals(status(blocker))) {
                assertTrue(Instant.now().isBefore(deadline), blocker + " did not start denoising: " + status(blocker));
                Api.sleepBriefly();
            }
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
    void lowPriorityIsServedUnderASteadyStreamOfHighPriority() {
        List<String> highs = new ArrayList<>();
        String low;
        try (KafkaProducer<String, byte[]> producer = RealInfrastructure.producer()) {
            // The UNet is busy; behind it, a low job and more high ones than the share lets pass before the low one.
            String blocker = submit(producer, "normal", MEDIUM);
            low = submit(producer, "low", SHORT);
            for (int i = 0; i < 3 * GatewayTestProfile.PRIORITY_SHARE; i++) {
                highs.add(submit(producer, "high", SHORT));
            }
            ended(blocker);
        }
        Instant lowEnded = ended(low);
        long highsBefore = highs.stream().filter(id -> ended(id).isBefore(lowEnded)).count();
        // Every stage gives the low job its turn after at most share - 1 high ones: it does not wait for them all.
        assertTrue(highsBefore < highs.size(), "the low job waited for every high one");
        assertTrue(highsBefore >= 1, "the high jobs did not go first");
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

    @Test
    void aCallerIsToldWhichPrioritiesItMayUse() {
        authed().get("/v1/priorities").then().statusCode(200)
                .body("allowed", equalTo(List.of("high", "normal", "low"))).body("default", equalTo("normal"));
        given().header("Authorization", "Bearer " + GatewayTestProfile.OTHER_KEY).get("/v1/priorities")
                .then().statusCode(200).body("allowed", equalTo(List.of("normal", "low")));
        given().get("/v1/priorities").then().statusCode(401);
    }
}
