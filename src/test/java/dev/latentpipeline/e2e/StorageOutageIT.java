package dev.latentpipeline.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latentpipeline.embedded.EmbeddedKafka;
import dev.latentpipeline.storage.ImageStore;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Npy;
import dev.latentpipeline.testing.AppProcess;
import dev.latentpipeline.testing.RestartableS3;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Object storage going away under load, as an operator meets it: the packaged app (text encoder, UNet and VAE in
 * one process) against a broker and a real S3 server (S3Proxy on a folder) in this JVM; the S3 server is closed
 * (clients get connection refused) and later started again on the same port and folder, as a restarted MinIO. The
 * load mixes text-to-image requests with img2img ones (the UNet reads their init image) and ones with explicit
 * latents (it reads a .npy), so every stage's storage call meets the outage.
 * <ol>
 * <li>30 s without storage, the default grace (3 min): every request completes, once, each decoded once.</li>
 * <li>SIGTERM while the stages wait: their messages hand on uncommitted, and the next process completes them.</li>
 * <li>Past a 4 s grace: every request fails with storage_error, once, and none completes later.</li>
 * </ol>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StorageOutageIT {
    static final String BUCKET = "sd-images";
    static final String ACCESS = "outage-access";
    static final String SECRET = "outage-secret-key";
    static final String ROLES = "text-encoder,unet,vae";
    static final Duration OUTAGE = Duration.ofSeconds(30);
    static final String SHORT_GRACE = "4s";
    static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    /** Few jobs per UNet worker, so img2img jobs waiting for their init image fill it and it stops taking work. */
    static final int MAX_BATCH = 4;
    static final String INIT_IMAGE = "inputs/blue.png";
    static final String LATENTS = "inputs/noise.npy";
    static final ObjectMapper JSON = new ObjectMapper();

    private final Path workDir = Path.of("target", "storage-outage-it", UUID.randomUUID().toString())
            .toAbsolutePath();
    private final HttpClient http = HttpClient.newHttpClient();
    private EmbeddedKafka kafka;
    private RestartableS3 s3;
    private ImageStore images;
    private KafkaProducer<String, byte[]> producer;
    private EventLog events;
    private AppProcess app;
    private int httpPort;
    private final List<AppProcess> stopped = new ArrayList<>();

    @BeforeAll
    void start() throws IOException {
        kafka = EmbeddedKafka.builder().port(0).start();
        s3 = RestartableS3.start(workDir.resolve("s3-data"), ACCESS, SECRET);
        images = new ImageStore(s3.endpoint(), ACCESS, SECRET, BUCKET);
        images.ensureBucket();
        images.put(INIT_IMAGE, png(128, 128, 0x0000FF), "image/png", Map.of());
        images.put(LATENTS, Npy.write(gaussian(7, 1, 4, 16, 16)), "application/octet-stream", Map.of());
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
        app = startApp("pipeline-a", Map.of());
        events = new EventLog(kafka.bootstrapServers(), "sd.events");
        // The pipeline works before anything is taken away.
        String first = submit("warm-up", txt(1));
        assertEquals("completed", events.awaitTerminal(List.of(first), START_TIMEOUT, app::tail).get(first)
                .get("type").asText());
    }

    @AfterAll
    void stop() {
        if (app != null) {
            app.close();
        }
        stopped.forEach(AppProcess::close);
        if (events != null) {
            events.close();
        }
        if (producer != null) {
            producer.close();
        }
        if (s3 != null) {
            s3.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    @Order(1)
    void aThirtySecondOutageUnderLoadIsWaitedOutAndEveryRequestCompletesOnce() throws Exception {
        List<String> before = submitMixed("before", 15);
        events.await(e -> e.get("type").asText().equals("completed")
                && before.contains(e.get("request_id").asText()), START_TIMEOUT);
        s3.stop();
        long stoppedAt = System.nanoTime();
        List<String> during = submitMixed("during", 15);
        List<String> all = new ArrayList<>(before);
        all.addAll(during);

        await("readiness reports the outage").atMost(Duration.ofSeconds(20))
                .until(() -> storageCheck().path("data").path("outage").asBoolean(false));
        JsonNode check = storageCheck();
        assertEquals("DOWN", check.get("status").asText(), check::toString);
        assertFalse(check.get("data").get("past_grace").asBoolean(), check::toString);
        assertEquals(Duration.ofMinutes(3).toMillis(), check.get("data").get("outage_grace_ms").asLong(),
                "the default grace");
        await("the VAE holds decoded images").atMost(OUTAGE).until(() -> !held(all).isEmpty());

        Duration left = OUTAGE.minusNanos(System.nanoTime() - stoppedAt);
        if (!left.isNegative()) {
            Thread.sleep(left.toMillis()); // the outage itself: storage stays away for 30 s
        }
        events.catchUp(Duration.ofSeconds(30));
        Set<String> held = held(all);
        assertEquals(1, held.size(), () -> "the VAE decodes one request, keeps it and takes no other: " + held);
        List<JsonNode> failed = all.stream().flatMap(id -> events.events(id).stream())
                .filter(e -> e.get("type").asText().equals("failed")).toList();
        assertEquals(List.of(), failed, "nothing fails while the outage lasts less than the grace");
        List<String> reading = during.stream().filter(id -> !id.contains("-txt-")).toList();
        assertEquals(List.of(), reading.stream().filter(id -> events.events(id).stream()
                .anyMatch(EventLog::isTerminal)).toList(), "img2img and latents jobs cannot end without storage");

        s3.restart();
        Map<String, JsonNode> terminal = events.awaitTerminal(all, Duration.ofMinutes(3), app::tail);
        terminal.forEach((id, e) -> assertEquals("completed", e.get("type").asText(), () -> id + ": " + e));
        await("completion markers are written once storage is back").atMost(Duration.ofSeconds(60))
                .until(() -> all.stream().allMatch(id -> images.exists(id + "/completed.json")));
        events.catchUp(Duration.ofSeconds(30));
        for (String id : all) {
            List<String> types = events.events(id).stream().map(e -> e.get("type").asText()).toList();
            assertEquals(1, types.stream().filter(t -> t.equals("completed") || t.equals("failed")).count(),
                    () -> id + " ends once: " + types);
            assertEquals(1, types.stream().filter(t -> t.equals("decoding")).count(),
                    () -> id + " is decoded once, its images kept through the outage: " + types);
            for (JsonNode image : terminal.get(id).get("images")) {
                BufferedImage png = ImageIO.read(new ByteArrayInputStream(images.get(image.get("key").asText())));
                assertNotNull(png, () -> image + " is a readable PNG");
            }
        }
        await("readiness is up again").atMost(Duration.ofSeconds(20))
                .until(() -> storageCheck().get("status").asText().equals("UP"));
    }

    @Test
    @Order(2)
    void workWaitingForStorageHandsOnUncommittedOnSigtermAndTheNextProcessCompletesIt() throws Exception {
        s3.stop();
        List<String> ids = submitMixed("handover", 6);
        List<String> reading = ids.stream().filter(id -> !id.contains("-txt-")).toList();
        await("the VAE holds decoded images and the UNet jobs waiting for their init image or latents")
                .atMost(Duration.ofSeconds(60)).until(() -> !held(ids).isEmpty() && reading.stream()
                        .allMatch(id -> app.output().contains(id + " waits for object storage")));
        Set<String> held = held(ids);

        long terminating = System.nanoTime();
        app.terminate();
        app.waitForExit(Duration.ofSeconds(60));
        Duration took = Duration.ofNanos(System.nanoTime() - terminating);
        String log = app.output();
        stopped.add(app);
        assertTrue(took.compareTo(Duration.ofSeconds(25)) < 0, () -> "the waits hand on at once rather than "
                + "running out sd.unet.shutdown-grace (30 s): " + took + "\n" + app.tail());
        for (String id : held) {
            assertTrue(log.contains(id + " waited for object storage and hands on"), () -> id + "\n" + log);
        }
        for (String id : reading) {
            assertTrue(log.contains(id + " waited for object storage and hands on to its partition's next owner"),
                    () -> id + "\n" + log);
        }
        events.catchUp(Duration.ofSeconds(30));
        assertEquals(List.of(), ids.stream().filter(id -> events.events(id).stream().anyMatch(EventLog::isTerminal))
                .toList(), "handed on, not failed");

        s3.restart();
        app = startApp("pipeline-b", Map.of("SD_S3_OUTAGE_GRACE", SHORT_GRACE));
        Map<String, JsonNode> terminal = events.awaitTerminal(ids, Duration.ofMinutes(2), app::tail);
        terminal.forEach((id, e) -> assertEquals("completed", e.get("type").asText(), () -> id + ": " + e));
        events.catchUp(Duration.ofSeconds(30));
        for (String id : ids) {
            assertEquals(1, events.events(id).stream().filter(EventLog::isTerminal).count(), id);
        }
    }

    @Test
    @Order(3)
    void pastTheGraceEveryRequestFailsWithStorageErrorOnceAndNoneCompletesLater() throws Exception {
        s3.stop();
        Instant stoppedAt = Instant.now();
        List<String> ids = submitMixed("past-grace", 12);
        Map<String, JsonNode> terminal = events.awaitTerminal(ids, Duration.ofMinutes(2), app::tail);
        Instant firstFailure = terminal.values().stream().map(e -> Instant.parse(e.get("time").asText()))
                .min(Instant::compareTo).orElseThrow();
        assertFalse(firstFailure.isBefore(stoppedAt.plusSeconds(4)),
                () -> "requests wait out the grace before they fail: storage stopped at " + stoppedAt
                        + ", first failure at " + firstFailure);
        terminal.forEach((id, e) -> {
            assertEquals("failed", e.get("type").asText(), () -> id + ": " + e);
            assertEquals("storage_error", e.get("error").get("code").asText(), () -> id + ": " + e);
            assertTrue(e.get("error").get("message").asText().startsWith("object storage unreachable for "),
                    () -> id + ": " + e);
            assertTrue(e.get("error").get("message").asText().contains("longer than sd.s3.outage-grace (4.0 s)"),
                    () -> id + ": " + e);
        });
        assertTrue(ids.stream().filter(id -> !id.contains("-txt-"))
                .allMatch(id -> terminal.get(id).get("stage").asText().equals("unet")),
                "init images and latents are read, and given up on, by the UNet stage");
        JsonNode check = storageCheck();
        assertEquals("DOWN", check.get("status").asText(), check::toString);
        assertTrue(check.get("data").get("past_grace").asBoolean(), check::toString);

        s3.restart();
        String after = submit("after", txt(99));
        assertEquals("completed", events.awaitTerminal(List.of(after), Duration.ofMinutes(1), app::tail).get(after)
                .get("type").asText(), "storage back, requests complete again");
        events.catchUp(Duration.ofSeconds(30));
        for (String id : ids) {
            List<String> types = events.events(id).stream().map(e -> e.get("type").asText()).toList();
            assertEquals(1, types.stream().filter(t -> t.equals("completed") || t.equals("failed")).count(),
                    () -> id + " ends once: " + types);
        }
        await("readiness is up again").atMost(Duration.ofSeconds(20))
                .until(() -> storageCheck().get("status").asText().equals("UP"));
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private AppProcess startApp(String name, Map<String, String> extra) {
        httpPort = RestartableS3.freePort();
        Map<String, String> env = AppProcess.roleEnv(ROLES, name, kafka.bootstrapServers(), s3.endpoint(), ACCESS,
                SECRET, workDir.resolve(name).resolve("model"));
        env.put("QUARKUS_HTTP_PORT", Integer.toString(httpPort));
        env.put("SD_UNET_MAX_BATCH", Integer.toString(MAX_BATCH));
        env.putAll(extra);
        AppProcess process = AppProcess.start(name, workDir.resolve(name), env, Map.of());
        process.awaitStarted(START_TIMEOUT);
        return process;
    }

    /** Requests with their kind in the id: text-to-image, img2img (reads an init image), explicit latents. */
    private List<String> submitMixed(String tag, int count) {
        List<String> ids = new ArrayList<>();
        for (int k = 0; k < count; k++) {
            int seed = 1000 + k;
            switch (k % 3) {
                case 0 -> ids.add(submit(tag + "-txt", txt(seed)));
                case 1 -> ids.add(submit(tag + "-img2img", "{\"prompt\":\"green\",\"init_image\":\"" + INIT_IMAGE
                        + "\",\"strength\":0.7,\"width\":128,\"height\":128,\"steps\":30,\"seed\":" + seed + "}"));
                default -> ids.add(submit(tag + "-latents", "{\"prompt\":\"yellow\",\"latents\":\"" + LATENTS
                        + "\",\"width\":128,\"height\":128,\"steps\":30,\"seed\":" + seed + "}"));
            }
        }
        return ids;
    }

    private static String txt(int seed) {
        return "{\"prompt\":\"a red square\",\"width\":256,\"height\":256,\"steps\":40,\"guidance_scale\":3,"
                + "\"seed\":" + seed + "}";
    }

    private String submit(String kind, String body) {
        String id = kind + "-" + UUID.randomUUID().toString().substring(0, 8);
        try {
            producer.send(new ProducerRecord<>("sd.requests", id, body.getBytes(StandardCharsets.UTF_8))).get();
        } catch (Exception e) {
            throw new IllegalStateException("could not publish " + id, e);
        }
        return id;
    }

    /** Requests the VAE has begun decoding (a decoding event) that have not ended yet. */
    private Set<String> held(Collection<String> ids) {
        events.catchUp(Duration.ofSeconds(30));
        return ids.stream().filter(id -> {
            List<JsonNode> seen = events.events(id);
            return seen.stream().anyMatch(e -> e.get("type").asText().equals("decoding"))
                    && seen.stream().noneMatch(EventLog::isTerminal);
        }).collect(Collectors.toSet());
    }

    /** The object storage check of the app's readiness probe. */
    private JsonNode storageCheck() throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + httpPort + "/q/health/ready")).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
        for (JsonNode check : JSON.readTree(response.body()).get("checks")) {
            if (check.get("name").asText().equals("sd-object-storage")) {
                return check;
            }
        }
        throw new AssertionError("no storage check in " + response.body());
    }

    private static byte[] png(int width, int height, int rgb) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, rgb);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    private static FloatTensor gaussian(long seed, long... shape) {
        Random random = new Random(seed);
        float[] data = new float[Math.toIntExact(FloatTensor.elementCount(shape))];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) random.nextGaussian();
        }
        return new FloatTensor(shape, data);
    }
}
