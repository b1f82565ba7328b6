package dev.latentpipeline.api;

import static dev.latentpipeline.api.Api.authed;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentpipeline.testing.RealInfrastructure;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** The whole job lifecycle over HTTP against the real pipeline, broker and S3 server. */
@QuarkusTest
@TestProfile(GatewayTestProfile.class)
@WithTestResource(RealInfrastructure.class)
class GenerationLifecycleTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private final HttpClient http = HttpClient.newHttpClient();

    @TestHTTPResource("/")
    URL base;

    @Test
    void submitPollFetchTheImage() throws Exception {
        String id = Api.newId();
        authed().contentType(ContentType.JSON)
                .body("{\"id\":\"" + id + "\",\"prompt\":\"a red square\",\"width\":64,\"height\":48,\"steps\":8,"
                        + "\"seed\":7,\"scheduler\":\"euler\"}")
                .post("/v1/generations")
                .then().statusCode(202)
                .header("Location", endsWith("/v1/generations/" + id))
                .body("id", equalTo(id), "status_url", equalTo("/v1/generations/" + id),
                        "events_url", equalTo("/v1/generations/" + id + "/events"));

        JsonPath done = Api.awaitTerminal(id, TIMEOUT);
        assertEquals("completed", done.getString("status"), done.prettify());
        assertEquals(8, done.getInt("progress.step"));
        assertEquals(8, done.getInt("progress.total_steps"));
        assertEquals(7, done.getLong("parameters.seed"));
        assertEquals("euler", done.getString("parameters.scheduler"));
        assertEquals(List.of("text-encoder", "unet", "vae"), done.getList("timings.stage"));
        assertEquals(7, done.getLong("images[0].seed"));

        // The presigned URL works without the API key, straight from the object store.
        HttpResponse<byte[]> presigned = http.send(HttpRequest.newBuilder(URI.create(done.getString("images[0].url")))
                .build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, presigned.statusCode());
        BufferedImage png = ImageIO.read(new ByteArrayInputStream(presigned.body()));
        assertEquals(64, png.getWidth());
        assertEquals(48, png.getHeight());
        assertEquals(0xFF, (png.getRGB(32, 24) >> 16) & 0xFF, "red channel of a red square");

        byte[] streamed = authed().get("/v1/generations/" + id + "/images/0").then().statusCode(200)
                .contentType("image/png").extract().asByteArray();
        assertEquals(presigned.body().length, streamed.length);
        authed().redirects().follow(false).get("/v1/generations/" + id + "/images/0?redirect=true").then()
                .statusCode(307).header("Location", startsWith(RealInfrastructure.s3Endpoint()));
    }

    @Test
    void serverSentEventsFollowTheJobToItsEnd() throws Exception {
        // The longest job the limits allow, so the stream opens before the job ends and progress is seen live.
        String id = Api.submit("{\"prompt\":\"blue\",\"width\":512,\"height\":512,\"steps\":150,\"num_images\":8,"
                + "\"scheduler\":\"ddim\"}");
        HttpRequest request = HttpRequest.newBuilder(base.toURI().resolve("v1/generations/" + id + "/events"))
                .header("Authorization", "Bearer " + GatewayTestProfile.KEY).timeout(TIMEOUT).build();
        HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<String> names = new ArrayList<>();
        String lastData = null;
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(),
                StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.startsWith("event:")) {
                    names.add(line.substring(6).trim());
                } else if (line.startsWith("data:")) {
                    lastData = line.substring(5).trim();
                }
            }
        }
        // The stream ends by itself after the terminal event.
        assertEquals("completed", names.get(names.size() - 1), names.toString());
        assertTrue(names.contains("denoising"), names.toString());
        JsonPath last = new JsonPath(lastData);
        assertEquals(id, last.getString("id"));
        assertNotNull(last.getString("images[0].url"));
    }

    /**
     * Previews over SSE: a 20-step job shows one every 4 steps (sd.previews.every), each decoded from the step's
     * predicted clean latents x0. The built-in model predicts its target exactly, so x0, and every preview, is
     * already the final image's colour. The job waits behind a long one (one UNet job at a time in this profile),
     * so its stream is open before it starts. A finished job hands on its latents only once its previews are out, so
     * the step-16 preview, rendered after the loop's last step, still comes before the completed event.
     */
    @Test
    void previewsArriveOverServerSentEventsWhileTheJobDenoises() throws Exception {
        String blocker = Api.submit("{\"prompt\":\"grey\",\"width\":1024,\"height\":1024,\"steps\":150,"
                + "\"scheduler\":\"euler\"}");
        String id = Api.submit("{\"prompt\":\"red\",\"width\":128,\"height\":96,\"steps\":20,\"num_images\":2,"
                + "\"guidance_scale\":7.5,\"scheduler\":\"euler\",\"seed\":4}");
        HttpRequest request = HttpRequest.newBuilder(base.toURI().resolve("v1/generations/" + id + "/events"))
                .header("Authorization", "Bearer " + GatewayTestProfile.KEY).timeout(TIMEOUT).build();
        HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        List<JsonPath> previews = new ArrayList<>();
        String event = null;
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(),
                StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.startsWith("event:")) {
                    event = line.substring(6).trim();
                } else if (line.startsWith("data:") && "preview".equals(event)) {
                    previews.add(new JsonPath(line.substring(5).trim()));
                }
            }
        }
        List<JsonPath> first = previews.stream().filter(p -> p.getInt("image_index") == 0).toList();
        assertEquals(List.of(4, 8, 12, 16), first.stream().map(p -> p.getInt("step")).toList(),
                "one preview of image 0 every 4 steps, before the last");
        assertEquals(8, previews.size(), "2 images, 4 previews each");
        for (JsonPath preview : previews) {
            assertEquals(id, preview.getString("id"));
            assertEquals(20, preview.getInt("total_steps"));
            assertEquals("taesd", preview.getString("decoder"), "the built-in model ships a preview decoder");
            String dataUrl = preview.getString("data_url");
            assertTrue(dataUrl.startsWith("data:image/jpeg;base64,"), dataUrl.substring(0, 40));
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(java.util.Base64.getDecoder()
                    .decode(dataUrl.substring(dataUrl.indexOf(',') + 1))));
            assertTrue(Math.max(image.getWidth(), image.getHeight()) <= 256);
            // Red at guidance 7.5 against an empty negative prompt: (1, 0, 0) (README, "The built-in model").
            int rgb = image.getRGB(image.getWidth() / 2, image.getHeight() / 2);
            assertTrue(((rgb >> 16) & 0xFF) > 240 && ((rgb >> 8) & 0xFF) < 15 && (rgb & 0xFF) < 15,
                    "step " + preview.getInt("step") + " preview is " + Integer.toHexString(rgb));
        }
        // The latest preview is also served on its own, as long as the gateway remembers the job.
        byte[] latest = authed().get("/v1/generations/" + id + "/preview").then().statusCode(200)
                .contentType("image/jpeg").header("X-Preview-Step", "16").extract().asByteArray();
        assertTrue(latest.length > 100);
        authed().get("/v1/generations/" + id + "/preview?image=2").then().statusCode(404);
        Api.awaitTerminal(blocker, TIMEOUT);
    }

    @Test
    void idempotencyKeyReturnsTheFirstSubmissionsId() {
        String key = "retry-" + Api.newId();
        String body = "{\"prompt\":\"green\",\"width\":16,\"height\":16,\"steps\":2}";
        String first = authed().header("Idempotency-Key", key).contentType(ContentType.JSON).body(body)
                .post("/v1/generations").then().statusCode(202).extract().path("id");
        String second = authed().header("Idempotency-Key", key).contentType(ContentType.JSON).body(body)
                .post("/v1/generations").then().statusCode(202).header("Idempotent-Replayed", "true")
                .extract().path("id");
        assertEquals(first, second);
        // The same key from another API key is another caller's key: a new job.
        String other = io.restassured.RestAssured.given()
                .header("Authorization", "Bearer " + GatewayTestProfile.OTHER_KEY)
                .header("Idempotency-Key", key).contentType(ContentType.JSON).body(body)
                .post("/v1/generations").then().statusCode(202).extract().path("id");
        assertTrue(!other.equals(first));
        Api.awaitTerminal(first, TIMEOUT);
        Api.awaitTerminal(other, TIMEOUT);
        // After completion the replay still answers with the first id, and nothing ran twice.
        authed().header("Idempotency-Key", key).contentType(ContentType.JSON).body(body)
                .post("/v1/generations").then().statusCode(202).body("id", equalTo(first))
                .body("status", equalTo("completed"));
    }

    @Test
    void listIsNewestFirstAndPaginated() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(Api.submit("{\"prompt\":\"white\",\"width\":8,\"height\":8,\"steps\":1}"));
        }
        ids.forEach(id -> Api.awaitTerminal(id, TIMEOUT));
        JsonPath page1 = authed().get("/v1/generations?limit=2").then().statusCode(200).extract().jsonPath();
        assertEquals(2, page1.getList("items").size());
        assertEquals(ids.get(2), page1.getString("items[0].id"));
        assertEquals(ids.get(1), page1.getString("items[1].id"));
        String cursor = page1.getString("next_cursor");
        JsonPath page2 = authed().get("/v1/generations?limit=2&cursor=" + cursor).then().statusCode(200)
                .extract().jsonPath();
        assertEquals(ids.get(0), page2.getString("items[0].id"));
        Set<String> all = new HashSet<>(page1.getList("items.id"));
        all.addAll(page2.getList("items.id"));
        assertEquals(4, all.size(), "pages do not overlap");
    }

    @Test
    void cancelStopsARunningDenoisingLoop() {
        // The longest job the limits allow (8 images, 150 steps), so the cancel lands while it runs.
        String id = Api.submit("{\"prompt\":\"purple\",\"width\":512,\"height\":512,\"steps\":150,"
                + "\"num_images\":8,\"scheduler\":\"euler\"}");
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            JsonPath s = Api.status(id);
            if ("denoising".equals(s.getString("status")) && s.getInt("progress.step") >= 1) {
                break;
            }
            assertTrue(System.nanoTime() < deadline && !Api.TERMINAL.contains(s.getString("status")),
                    "never saw it denoising: " + s.prettify());
            Api.sleepBriefly();
        }
        authed().delete("/v1/generations/" + id).then().statusCode(202).body("id", equalTo(id));
        JsonPath end = Api.awaitTerminal(id, TIMEOUT);
        assertEquals("cancelled", end.getString("status"), end.prettify());
        assertEquals("unet", end.getString("stage"));
        assertEquals(150, end.getInt("progress.total_steps"));
        assertTrue(end.getInt("progress.step") < 150, end.prettify());
        // Cancelling again is a no-op; a finished job cannot be cancelled.
        authed().delete("/v1/generations/" + id).then().statusCode(200).body("status", equalTo("cancelled"));
    }

    @Test
    void aJobCancelledWhileQueuedNeverFinishesItsSteps() {
        // The second job waits behind the first (or runs beside it on another partition); either way a stage skips
        // it or its loop stops, and it ends cancelled short of its steps.
        String blocker = Api.submit("{\"prompt\":\"black\",\"width\":512,\"height\":512,\"steps\":150,"
                + "\"num_images\":4}");
        String id = Api.submit("{\"prompt\":\"yellow\",\"width\":512,\"height\":512,\"steps\":150,"
                + "\"num_images\":4}");
        authed().delete("/v1/generations/" + id).then().statusCode(202);
        authed().delete("/v1/generations/" + blocker).then().statusCode(202);
        JsonPath end = Api.awaitTerminal(id, TIMEOUT);
        assertEquals("cancelled", end.getString("status"), end.prettify());
        assertEquals("cancelled", Api.awaitTerminal(blocker, TIMEOUT).getString("status"));
        Map<String, Object> progress = end.getMap("progress");
        assertTrue(progress == null || (int) progress.get("step") < 150, end.prettify());
    }
}
