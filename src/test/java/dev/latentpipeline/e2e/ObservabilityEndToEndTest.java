package dev.latentpipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latentpipeline.observability.BrokerReadiness;
import dev.latentpipeline.observability.ModelsReadiness;
import dev.latentpipeline.observability.StorageReadiness;
import dev.latentpipeline.observability.WorkerLiveness;
import dev.latentpipeline.pipeline.Stages;
import dev.latentpipeline.testing.RealInfrastructure;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Health probes, Prometheus metrics and tracing as an operator meets them, on the same real broker and S3 server
 * as the other end-to-end tests (same resource set, so Quarkus does not restart for this class).
 */
@QuarkusTest
@WithTestResource(RealInfrastructure.class)
class ObservabilityEndToEndTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AttributeKey<String> REQUEST_ID = AttributeKey.stringKey("sd.request_id");
    private static final AttributeKey<String> STAGE = AttributeKey.stringKey("sd.stage");
    /** A Prometheus sample line: name{labels} value. */
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+)");

    private static PipelineClient client;
    private final HttpClient http = HttpClient.newHttpClient();

    @TestHTTPResource("/q/health/live")
    URL live;
    @TestHTTPResource("/q/health/ready")
    URL ready;
    @TestHTTPResource("/q/metrics")
    URL metrics;
    @Inject
    InMemorySpanExporter spans;

    @BeforeAll
    static void connect() {
        client = new PipelineClient();
    }

    @AfterAll
    static void disconnect() {
        client.close();
    }

    private HttpResponse<String> get(URL url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url.toString())).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static Map<String, JsonNode> checksByName(JsonNode health) {
        Map<String, JsonNode> checks = new HashMap<>();
        health.get("checks").forEach(c -> checks.put(c.get("name").asText(), c));
        return checks;
    }

    private String generate(String json) {
        String id = "obs-" + UUID.randomUUID();
        client.submit(id, json);
        JsonNode terminal = client.awaitTerminal(id, TIMEOUT);
        assertEquals("completed", terminal.get("type").asText(), () -> "expected completion, got " + terminal);
        return id;
    }

    @Test
    void readinessChecksModelsBrokerAndStorage() throws Exception {
        HttpResponse<String> response = get(ready);
        assertEquals(200, response.statusCode(), response.body());
        JsonNode health = JSON.readTree(response.body());
        assertEquals("UP", health.get("status").asText(), response.body());
        Map<String, JsonNode> checks = checksByName(health);
        for (String name : List.of(ModelsReadiness.NAME, BrokerReadiness.NAME, StorageReadiness.NAME)) {
            assertTrue(checks.containsKey(name), () -> name + " missing from " + response.body());
            assertEquals("UP", checks.get(name).get("status").asText(), response.body());
        }
        // This process runs every role, so every stage's model is open (vae_encoder too, once an img2img request
        // has run in this JVM) and storage was really checked.
        assertTrue(Set.of(checks.get(ModelsReadiness.NAME).get("data").get("loaded").asText().split(","))
                .containsAll(Set.of("text_encoder", "unet", "vae_decoder")), response.body());
        assertTrue(checks.get(StorageReadiness.NAME).get("data").get("checked").asBoolean(), response.body());
        assertEquals(1, checks.get(BrokerReadiness.NAME).get("data").get("brokers").asInt(), response.body());
    }

    @Test
    void livenessNamesTheWorker() throws Exception {
        HttpResponse<String> response = get(live);
        assertEquals(200, response.statusCode(), response.body());
        JsonNode health = JSON.readTree(response.body());
        assertEquals("UP", health.get("status").asText(), response.body());
        JsonNode worker = checksByName(health).get(WorkerLiveness.NAME);
        assertTrue(worker != null, response.body());
        assertEquals("all", worker.get("data").get("roles").asText());
        assertTrue(worker.get("data").get("worker").asText().contains(":"), "host:pid expected");
    }

    @Test
    void oneRequestIsOneTraceAcrossAllStages() {
        String first = generate("{\"prompt\":\"a blue square\",\"width\":64,\"height\":64,\"steps\":4,"
                + "\"guidance_scale\":2.0,\"seed\":3}");
        String second = generate("{\"prompt\":\"a green square\",\"width\":64,\"height\":64,\"steps\":4,"
                + "\"guidance_scale\":2.0,\"seed\":4}");
        String firstTrace = awaitOneTraceOverStages(first);
        String secondTrace = awaitOneTraceOverStages(second);
        assertNotEquals(firstTrace, secondTrace, "two requests must be two traces");
        // The hand-offs are in the trace too: the connector's spans for every topic the request passes through.
        Set<String> spanNames = spans.getFinishedSpanItems().stream().filter(s -> s.getTraceId().equals(firstTrace))
                .map(SpanData::getName).collect(Collectors.toSet());
        assertTrue(spanNames.containsAll(Set.of("sd.requests receive", "sd.embeddings publish",
                "sd.embeddings receive", "sd.latents publish", "sd.latents receive", "sd.events publish")),
                () -> "spans of the trace: " + spanNames);
    }

    @Test
    void aFiftyStepJobCrossesSdEmbeddingsOnceAndCheckpointsOnTheSide() {
        String id = generate("{\"prompt\":\"a blue square\",\"width\":64,\"height\":64,\"steps\":50,"
                + "\"scheduler\":\"euler\",\"guidance_scale\":2.0,\"seed\":8}");
        String trace = awaitOneTraceOverStages(id);
        // sd.unet.checkpoint-every=10: checkpoints after steps 10, 20, 30 and 40 (and the end marker), all to
        // sd.checkpoints; the loop itself never goes back through sd.embeddings.
        Awaitility.await().atMost(TIMEOUT).until(() -> publishes(trace, "sd.checkpoints") >= 4);
        assertEquals(1, publishes(trace, "sd.embeddings"), () -> "spans: " + spans.getFinishedSpanItems().stream()
                .filter(s -> s.getTraceId().equals(trace)).map(SpanData::getName).toList());
    }

    private long publishes(String trace, String topic) {
        return spans.getFinishedSpanItems().stream().filter(s -> s.getTraceId().equals(trace))
                .filter(s -> s.getName().equals(topic + " publish")).count();
    }

    /** Waits until each stage's span for the request has ended; returns the one trace id they share. */
    private String awaitOneTraceOverStages(String requestId) {
        Set<String> stages = Set.of(Stages.TEXT_ENCODER, Stages.UNET, Stages.VAE);
        Awaitility.await().atMost(TIMEOUT).until(() -> stageSpans(requestId).stream().map(s -> s.getAttributes()
                .get(STAGE)).collect(Collectors.toSet()).containsAll(stages));
        Set<String> traces = stageSpans(requestId).stream().map(SpanData::getTraceId).collect(Collectors.toSet());
        assertEquals(1, traces.size(), () -> "stage spans of " + requestId + " are in traces " + traces);
        return traces.iterator().next();
    }

    private List<SpanData> stageSpans(String requestId) {
        return spans.getFinishedSpanItems().stream().filter(s -> requestId.equals(s.getAttributes().get(REQUEST_ID)))
                .toList();
    }

    @Test
    void metricsCoverStagesOnnxErrorsAndConsumerLag() throws Exception {
        generate("{\"prompt\":\"a red square\",\"width\":64,\"height\":64,\"steps\":3,\"guidance_scale\":1.0,"
                + "\"seed\":5}");
        String rejected = "obs-" + UUID.randomUUID();
        client.submit(rejected, "{\"prompt\":\"too wide\",\"width\":2048,\"height\":64,\"steps\":3}");
        JsonNode failed = client.awaitTerminal(rejected, TIMEOUT);
        assertEquals("limit_exceeded", failed.get("error").get("code").asText(), failed.toString());

        Awaitility.await().atMost(TIMEOUT).untilAsserted(() -> {
            String text = get(metrics).body();
            for (String stage : List.of(Stages.TEXT_ENCODER, Stages.UNET, Stages.VAE)) {
                assertTrue(sample(text, "sd_stage_duration_seconds_count", Map.of("stage", stage, "outcome", "ok"))
                        >= 1, stage + " latency");
                assertTrue(text.contains("sd_stage_duration_seconds_bucket{"), "latency histogram buckets");
                assertEquals(0.0, sample(text, "sd_stage_in_flight", Map.of("stage", stage)), stage + " in flight");
            }
            for (String model : List.of("text_encoder", "unet", "vae_decoder")) {
                assertTrue(sample(text, "sd_onnx_duration_seconds_count", Map.of("model", model)) >= 1, model);
            }
            // Three steps, so at least three UNet calls, each with at least one job.
            double calls = sample(text, "sd_unet_jobs_per_call_count", Map.of());
            assertTrue(calls >= 3, "UNet calls counted: " + calls);
            assertTrue(sample(text, "sd_unet_jobs_per_call_sum", Map.of()) >= calls, "jobs per call");
            assertTrue(sample(text, "sd_stage_errors_total",
                    Map.of("stage", Stages.TEXT_ENCODER, "code", "limit_exceeded")) >= 1, "error counter");
            assertTrue(text.lines().anyMatch(l -> l.startsWith("kafka_consumer_fetch_manager_records_lag_max{")),
                    "consumer lag from the Kafka client binder");
        });
    }

    /** The summed value of the samples named {@code name} whose labels include {@code labels}; NaN if none. */
    private static double sample(String exposition, String name, Map<String, String> labels) {
        double sum = 0;
        boolean found = false;
        for (String line : exposition.split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (line.startsWith("#") || !m.find() || !m.group(1).equals(name)) {
                continue;
            }
            String labelText = m.group(3) == null ? "" : m.group(3);
            if (labels.entrySet().stream().allMatch(e -> labelText.contains(e.getKey() + "=\"" + e.getValue() + "\""))) {
                sum += Double.parseDouble(m.group(4));
                found = true;
            }
        }
        return found ? sum : Double.NaN;
    }
}
