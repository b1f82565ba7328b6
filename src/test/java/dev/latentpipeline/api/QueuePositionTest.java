package dev.latentpipeline.api;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Issues 11 and 12: queue position and ETA while a job waits, gone once it runs, over GET and SSE. More jobs than
 * places: the test JVM has one UNet worker, serving every partition, one job at a time (GatewayTestProfile); a long
 * job keeps it busy while three more wait, two on the long job's partition and one, of low priority, on another. The
 * low one starts last (with a share of 4 it would pass after 3 normal ones taken while it waits; 2 are). Of one
 * priority on different partitions, the worker takes jobs in the order its fetches return them, which the gateway
 * cannot see (docs/queue.md), so a normal job there could start before those ahead of it here.
 * Several jobs at once (capacity above 1) are played in queue/UnetScheduleTest.
 */
@QuarkusTest
@TestProfile(GatewayTestProfile.class)
@WithTestResource(RealInfrastructure.class)
class QueuePositionTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    /** About 1.5 s of UNet work with the built-in model here. */
    private static final String LONG = "\"prompt\":\"navy\",\"width\":512,\"height\":512,\"steps\":150,\"num_images\":8";

    @TestHTTPResource("/")
    URL base;
    @Inject
    StatusStore store;

    private static String submit(String id) {
        return Api.submit("{\"id\":\"" + id + "\"," + LONG + "}");
    }

    private static String submitLow(String id) {
        return Api.submit("{\"id\":\"" + id + "\",\"priority\":\"low\"," + LONG + "}");
    }

    @Test
    void waitingJobsShowTheirPlaceAndEstimateUntilTheyRun() throws Exception {
        await().atMost(TIMEOUT).until(() -> store.inFlightCount() == 0);
        Api.denoiseOnEveryPartition();
        int partitions = Api.partitions();
        // One completed job of the long shape, to price the others from.
        String sample = submit(Api.newIdOn(1, partitions));
        assertEquals("completed", Api.awaitTerminal(sample, TIMEOUT).getString("status"));

        String running = submit(Api.newIdOn(0, partitions));
        await().atMost(TIMEOUT).until(() -> "denoising".equals(Api.status(running).getString("status")));
        JsonPath runningStatus = Api.status(running);
        assertNull(runningStatus.get("queue_position"), "a job being denoised has no queue position");
        assertNull(runningStatus.get("eta"));

        Instant submitted = Instant.now();
        String first = submit(Api.newIdOn(0, partitions));
        String second = submit(Api.newIdOn(0, partitions));
        String elsewhere = submitLow(Api.newIdOn(2, partitions));
        // Connected here, while the long job runs (read on a thread of its own: the common pool has one thread on a
        // 2-core machine, and a stream opened seconds late missed the count going down).
        HttpResponse<InputStream> opened = open(second);
        CompletableFuture<List<JsonNode>> stream = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                stream.complete(events(second, opened));
            } catch (Throwable e) {
                stream.completeExceptionally(e);
            }
        }, "sse-" + second);
        reader.setDaemon(true);
        reader.start();
        JsonPath a = Api.status(first);
        JsonPath b = Api.status(second);
        JsonPath c = Api.status(elsewhere);
        assertTrue(List.of("queued", "accepted", "encoding").contains(c.getString("status")), c.prettify());
        assertEquals(1, a.getInt("queue_position"), a.prettify());
        assertEquals(2, b.getInt("queue_position"), b.prettify());
        assertEquals(3, c.getInt("queue_position"), "one worker serves both partitions, and the low job waits for "
                + "the normal ones (share " + GatewayTestProfile.PRIORITY_SHARE + "): " + c.prettify());
        assertEquals(1, a.getInt("worker_capacity"), "the worker runs one job at a time: " + a.prettify());
        Instant firstStarts = Instant.parse(a.getString("eta.starts_at"));
        Instant firstEnds = Instant.parse(a.getString("eta.ends_at"));
        assertTrue(firstStarts.isAfter(submitted) && firstEnds.isAfter(firstStarts), a.prettify());
        assertTrue(Instant.parse(b.getString("eta.starts_at")).isAfter(firstStarts), b.prettify());
        assertTrue(Instant.parse(b.getString("eta.ends_at")).isAfter(firstEnds), b.prettify());
        // The list answers with the same fields as GET (read back to back until no job moved in between: the line
        // may have moved on since the reads above).
        await().atMost(TIMEOUT).until(() -> {
            Integer listed = Api.authed().get("/v1/generations?limit=5").then().statusCode(200).extract().jsonPath()
                    .get("items.find { it.id == '" + elsewhere + "' }.queue_position");
            Integer got = Api.status(elsewhere).get("queue_position");
            return listed != null && listed.equals(got) && listed >= 1 && listed <= 3;
        });

        for (String id : List.of(running, first, second, elsewhere)) {
            JsonPath done = Api.awaitTerminal(id, TIMEOUT);
            assertEquals("completed", done.getString("status"), done.prettify());
            assertNull(done.get("queue_position"));
            assertNull(done.get("eta"));
        }
        for (String id : List.of(sample, running, first, second, elsewhere)) {
            System.out.println("QueuePositionTest timings " + id + ": " + Api.status(id).getList("timings"));
        }
        System.out.println("QueuePositionTest predicted for job 1: " + a.getMap("eta") + ", 2: " + b.getMap("eta")
                + ", 3: " + c.getMap("eta") + " at " + submitted);
        JsonPath firstDone = Api.status(first);
        Instant started = Instant.parse(firstDone.getString("timings.find { it.stage == 'unet' }.started_at"));
        System.out.printf("QueuePositionTest: job 1 of 3 waiting predicted to start %+d ms and end %+d ms from when "
                + "it did%n", Duration.between(started, firstStarts).toMillis(),
                Duration.between(Instant.parse(firstDone.getString("updated_at")), firstEnds).toMillis());

        // Over SSE, for the second job on the long job's partition (which it cannot start before the two ahead of it
        // have left the UNet): a place in every event until the first denoising one, counting down; none from then on.
        List<JsonNode> seen = stream.get();
        int firstRun = -1;
        for (int i = 0; i < seen.size() && firstRun < 0; i++) {
            if (seen.get(i).get("status").asText().equals("denoising")) {
                firstRun = i;
            }
        }
        assertTrue(firstRun > 0, "the stream saw the job wait, then run: " + seen);
        int last = Integer.MAX_VALUE;
        for (JsonNode waiting : seen.subList(0, firstRun)) {
            assertTrue(waiting.has("queue_position") && waiting.has("eta"), waiting::toString);
            assertTrue(waiting.get("queue_position").asInt() <= last, seen::toString);
            last = waiting.get("queue_position").asInt();
        }
        assertTrue(seen.subList(0, firstRun).stream().map(e -> e.get("queue_position").asInt()).distinct().count() > 1,
                "the position counted down while the jobs ahead ran: " + seen);
        for (JsonNode runningEvent : seen.subList(firstRun, seen.size())) {
            assertFalse(runningEvent.has("queue_position") || runningEvent.has("eta"), runningEvent::toString);
        }
    }

    /** The job's event stream, once the gateway has answered with its headers. */
    private HttpResponse<InputStream> open(String id) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(base.toURI().resolve("v1/generations/" + id + "/events"))
                .header("Authorization", "Bearer " + GatewayTestProfile.KEY).timeout(TIMEOUT).build();
        HttpResponse<InputStream> response = HttpClient.newHttpClient().send(request,
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        return response;
    }

    /** Every event's data until the stream ends by itself after the terminal event. */
    private static List<JsonNode> events(String id, HttpResponse<InputStream> response) {
        List<JsonNode> seen = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(),
                StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.startsWith("data:")) {
                    seen.add(JSON.readTree(line.substring(5).trim()));
                }
            }
        } catch (Exception e) {
            throw new AssertionError("reading the event stream of " + id, e);
        }
        return seen;
    }
}
