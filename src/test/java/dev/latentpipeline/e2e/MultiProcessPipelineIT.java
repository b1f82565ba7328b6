package dev.latentpipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.latentpipeline.storage.ImageStore;
import dev.latentpipeline.testing.AppProcess;
import dev.latentpipeline.testing.ConsumerGroups;
import dev.latentpipeline.testing.RealInfrastructure;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The packaged app as separate processes on one machine, one role each, sharing one broker and one S3 server
 * (both in this JVM): a text encoder, two UNet workers and a VAE worker. A plain Kafka producer submits
 * requests; the events on sd.events are what a user sees.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiProcessPipelineIT {
    static final String BUCKET = "sd-images";
    static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    static final Duration RUN_TIMEOUT = Duration.ofSeconds(90);
    static final String UNET_GROUP = "sd-unet";
    static final int CHECKPOINT_EVERY = 4;
    /**
     * Jobs a UNet worker batches: batching on, but few enough that work queues behind the jobs running (with the
     * built-in model a step costs about a millisecond: only size and queueing keep work in flight for seconds).
     */
    static final int MAX_BATCH = 4;
    /** Long enough that a worker joining (a JVM start, seconds) still finds most of the work queued. */
    static final String LONGER_JOB = "\"prompt\":\"a blue stripe\",\"width\":1024,\"height\":1024,"
            + "\"steps\":150,\"guidance_scale\":3";
    /** Long enough loops that a worker stopped under load leaves requests part-way through. */
    static final String LONG_JOB = "\"prompt\":\"a green circle\",\"width\":512,\"height\":512,\"steps\":150,"
            + "\"guidance_scale\":3";
    static final List<String> SCHEDULERS = List.of("pndm", "ddim", "euler", "euler_a", "lms", "dpmpp_2m",
            "dpmpp_2m_karras");

    private final RealInfrastructure infrastructure = new RealInfrastructure();
    private final Map<String, AppProcess> workers = new LinkedHashMap<>();
    /** Workers the tests stopped on purpose; kept for their logs. */
    private final Map<String, AppProcess> stopped = new LinkedHashMap<>();
    private final Path workDir = Path.of("target", "multi-process-it").toAbsolutePath();
    private KafkaProducer<String, byte[]> producer;
    private EventLog events;
    private ConsumerGroups groups;
    private ImageStore images;

    @BeforeAll
    void startPipeline() {
        infrastructure.start();
        List<AppProcess> starting = new ArrayList<>();
        starting.add(startWorker("text-encoder", "text-encoder-1"));
        starting.add(startWorker("unet", "unet-1"));
        starting.add(startWorker("unet", "unet-2"));
        starting.add(startWorker("vae", "vae-1"));
        starting.forEach(p -> p.awaitStarted(START_TIMEOUT));
        producer = RealInfrastructure.producer();
        groups = new ConsumerGroups(RealInfrastructure.bootstrapServers());
        events = new EventLog(RealInfrastructure.bootstrapServers(), "sd.events");
        images = RealInfrastructure.imageStore(BUCKET);
        awaitUnetMembers(2);
    }

    AppProcess startWorker(String role, String workerId) {
        Map<String, String> env = AppProcess.roleEnv(role, workerId, RealInfrastructure.bootstrapServers(),
                RealInfrastructure.s3Endpoint(), RealInfrastructure.ACCESS_KEY, RealInfrastructure.SECRET_KEY,
                workDir.resolve(workerId).resolve("model"));
        Map<String, String> props = new HashMap<>();
        if (role.equals("unet")) {
            // Small hops so a killed worker leaves checkpoints behind; a short session so the broker notices a
            // kill -9 in seconds rather than the default 45 s.
            env.put("SD_UNET_CHECKPOINT_EVERY", Integer.toString(CHECKPOINT_EVERY));
            env.put("SD_UNET_MAX_BATCH", Integer.toString(MAX_BATCH));
            props.put("sd.kafka.unet.session.timeout.ms", "6000");
            props.put("sd.kafka.unet.heartbeat.interval.ms", "1000");
            // The client id names the worker in the group description.
            props.put("sd.kafka.unet.client.id", workerId);
        }
        if (role.equals("text-encoder")) {
            props.put("sd.kafka.text-encoder.session.timeout.ms", "6000");
            props.put("sd.kafka.text-encoder.heartbeat.interval.ms", "1000");
        }
        AppProcess process = AppProcess.start(workerId, workDir.resolve(workerId), env, props);
        workers.put(workerId, process);
        return process;
    }

    /** Requests go out only once the UNet group is stable with partitions on each worker. */
    void awaitUnetMembers(int count) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (groups.assignedMemberCount(UNET_GROUP) != count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("UNet group never had " + count + " members with partitions: "
                        + groups.assignedMembers(UNET_GROUP));
            }
            workers.values().forEach(w -> assertTrue(w.isAlive(), () -> w.name() + " died:\n" + w.tail()));
            try {
                Thread.sleep(200); // polling the broker's view of the group; the loop condition is what is awaited
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    @AfterAll
    void stopPipeline() {
        workers.values().forEach(AppProcess::close);
        stopped.values().forEach(AppProcess::close);
        if (producer != null) {
            producer.close();
        }
        if (events != null) {
            events.close();
        }
        if (groups != null) {
            groups.close();
        }
        infrastructure.stop();
    }

    List<String> submit(int count, String template) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String id = "mp-" + UUID.randomUUID();
            String body = "{\"id\":\"" + id + "\",\"seed\":" + i + "," + template + "}";
            producer.send(new ProducerRecord<>("sd.requests", id, body.getBytes(StandardCharsets.UTF_8)));
            ids.add(id);
        }
        producer.flush();
        return ids;
    }

    String diagnostics() {
        StringBuilder out = new StringBuilder();
        workers.values().forEach(w -> out.append("---- ").append(w.name()).append(w.isAlive() ? "" : " (exited)")
                .append('\n').append(w.tail()).append('\n'));
        return out.toString();
    }

    /** Waits until nothing is queued or in flight anywhere, then reads every event published so far. */
    void awaitQuiet() {
        groups.awaitIdle(Map.of("sd-text-encoder", "sd.requests", UNET_GROUP, "sd.embeddings",
                "sd-vae", "sd.latents"), RUN_TIMEOUT);
        events.catchUp(Duration.ofSeconds(30));
    }

    /** Exactly one completed event per request, all images present once under their own keys. */
    void assertCompletedOnce(List<String> ids) {
        assertCompletedOnce(ids, 0);
    }

    /**
     * As {@link #assertCompletedOnce(List)}, but up to {@code answeredAgain} requests may carry their completed event
     * twice, byte for byte: a request redone after its job had finished is answered with the stored event.
     */
    void assertCompletedOnce(List<String> ids, int answeredAgain) {
        Set<String> keys = new HashSet<>();
        List<String> repeated = new ArrayList<>();
        for (String id : ids) {
            List<JsonNode> all = events.events(id).stream().filter(EventLog::isTerminal).toList();
            List<JsonNode> terminal = all.stream().distinct().toList();
            if (all.size() > terminal.size()) {
                repeated.add(id);
            }
            assertEquals(1, terminal.size(), () -> "terminal events of " + id + ": " + all);
            JsonNode done = terminal.get(0);
            assertEquals("completed", done.get("type").asText(), done::toString);
            for (JsonNode image : done.get("images")) {
                String key = image.get("key").asText();
                assertTrue(keys.add(key), "image key " + key + " reported twice");
                assertTrue(images.exists(key), "image " + key + " is not in the bucket");
            }
        }
        assertTrue(repeated.size() <= answeredAgain, "completed events sent again: " + repeated);
    }

    /** The UNet segments of a completed event, in order: which worker ran which steps. */
    static List<JsonNode> unetStages(JsonNode completed) {
        List<JsonNode> out = new ArrayList<>();
        completed.get("stages").forEach(s -> {
            if (s.get("stage").asText().equals("unet")) {
                out.add(s);
            }
        });
        return out;
    }

    @Test
    @Order(1)
    void fortyRequestsSpreadOverTwoUnetWorkers() {
        List<String> ids = submit(40, "\"prompt\":\"a red square\",\"width\":32,\"height\":32,\"steps\":8,"
                + "\"guidance_scale\":3");
        Map<String, JsonNode> done = events.awaitTerminal(ids, RUN_TIMEOUT, this::diagnostics);
        awaitQuiet();
        assertCompletedOnce(ids);

        Map<String, Long> unetWork = new HashMap<>();
        for (JsonNode completed : done.values()) {
            List<String> stageNames = new ArrayList<>();
            for (JsonNode stage : completed.get("stages")) {
                stageNames.add(stage.get("stage").asText());
                assertFalse(stage.get("worker").asText().isBlank(), completed::toString);
                assertTrue(stage.get("duration_ms").asLong() >= 0, completed::toString);
                assertTrue(stage.has("started_at") && stage.has("onnx_ms"), completed::toString);
            }
            assertEquals("text-encoder", stageNames.get(0));
            assertEquals("vae", stageNames.get(stageNames.size() - 1));
            assertEquals("text-encoder-1", completed.get("stages").get(0).get("worker").asText());
            assertEquals("vae-1", completed.get("worker").asText());
            unetStages(completed).forEach(s -> unetWork.merge(s.get("worker").asText(), 1L, Long::sum));
        }
        assertEquals(Set.of("unet-1", "unet-2"), unetWork.keySet(), () -> "UNet work by worker: " + unetWork);

        // Every event names the worker that produced it, and that worker ran the event's stage.
        Map<String, String> workerOfStage = Map.of("text-encoder", "text-encoder-1", "vae", "vae-1");
        for (String id : ids) {
            for (JsonNode event : events.events(id)) {
                String worker = event.get("worker").asText();
                String stage = event.get("stage").asText();
                if (stage.equals("unet")) {
                    assertTrue(worker.equals("unet-1") || worker.equals("unet-2"), event::toString);
                } else {
                    assertEquals(workerOfStage.get(stage), worker, event::toString);
                }
            }
        }
        Set<String> progressWorkers = ids.stream().flatMap(id -> events.events(id).stream())
                .filter(e -> e.get("type").asText().equals("denoising")).map(e -> e.get("worker").asText())
                .collect(Collectors.toSet());
        assertEquals(Set.of("unet-1", "unet-2"), progressWorkers);
    }

    /** Long jobs, cycling through every scheduler so multistep history and noise state cross processes. */
    List<String> submitLongJobs(int count) {
        return submitLongJobs(count, LONG_JOB);
    }

    List<String> submitLongJobs(int count, String template) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.addAll(submit(1, template + ",\"scheduler\":\"" + SCHEDULERS.get(i % SCHEDULERS.size()) + "\""));
        }
        return ids;
    }

    /** Waits for a progress event from {@code worker} on one of {@code ids} at or past {@code step}. */
    void awaitProgress(String worker, List<String> ids, int step) {
        Set<String> wanted = new HashSet<>(ids);
        events.await(e -> e.get("type").asText().equals("denoising") && e.get("worker").asText().equals(worker)
                && wanted.contains(e.get("request_id").asText()) && e.get("step").asInt() >= step, RUN_TIMEOUT);
    }

    /** The UNet segments of each completed request run 0..total without gaps or overlaps. */
    void assertContiguousSegments(Map<String, JsonNode> done) {
        for (JsonNode completed : done.values()) {
            int next = 0;
            for (JsonNode s : unetStages(completed)) {
                assertEquals(next, s.get("from_step").asInt(), completed::toString);
                assertTrue(s.get("to_step").asInt() > next, completed::toString);
                next = s.get("to_step").asInt();
            }
            int total = events.events(completed.get("request_id").asText()).stream()
                    .filter(e -> e.get("type").asText().equals("denoising")).findFirst().orElseThrow()
                    .get("total_steps").asInt();
            assertEquals(total, next, completed::toString);
        }
    }

    /** Requests whose loop moved from worker {@code from} to worker {@code to}, with the step it moved at. */
    static Map<String, Integer> handovers(Map<String, JsonNode> done, String from, String to) {
        Map<String, Integer> out = new LinkedHashMap<>();
        done.forEach((id, completed) -> {
            List<JsonNode> segments = unetStages(completed);
            for (int i = 1; i < segments.size(); i++) {
                if (segments.get(i - 1).get("worker").asText().equals(from)
                        && segments.get(i).get("worker").asText().equals(to)) {
                    out.put(id, segments.get(i).get("from_step").asInt());
                }
            }
        });
        return out;
    }

    /** Every "Checkpointed <id> at step N of M <why>" in {@code log} is where that request moved on. */
    static void assertContinuedAtCheckpoints(String log, String why, Map<String, Integer> moved) {
        java.util.regex.Matcher m = java.util.regex.Pattern
                .compile("Checkpointed (\\S+) at step (\\d+) of \\d+ " + java.util.regex.Pattern.quote(why))
                .matcher(log);
        while (m.find()) {
            assertEquals(Integer.valueOf(m.group(2)), moved.get(m.group(1)), m.group());
        }
    }

    static long count(String text, String regex) {
        return java.util.regex.Pattern.compile(regex).matcher(text).results().count();
    }

    @Test
    @Order(2)
    void killNineMidLoopLosesNothingAndDuplicatesNothing() {
        List<String> ids = submitLongJobs(40);
        // Once unet-1 has passed a few checkpoints, requests on its partitions are queued part-way through.
        awaitProgress("unet-1", ids, 2 * CHECKPOINT_EVERY);
        AppProcess victim = workers.remove("unet-1");
        stopped.put(victim.name(), victim);
        victim.killHard();

        Map<String, JsonNode> done = events.awaitTerminal(ids, RUN_TIMEOUT, this::diagnostics);
        awaitQuiet();
        assertCompletedOnce(ids);
        assertContiguousSegments(done);

        // The survivor continued unet-1's requests from unet-1's checkpoints, not from step 0.
        Map<String, Integer> resumed = handovers(done, "unet-1", "unet-2");
        assertFalse(resumed.isEmpty(), "no request moved from unet-1 to unet-2 at a checkpoint");
        String survivorLog = workers.get("unet-2").output();
        resumed.forEach((id, step) -> {
            assertTrue(step > 0 && step % CHECKPOINT_EVERY == 0, id + " resumed at " + step);
            assertTrue(survivorLog.contains("Resumed " + id + " at step " + step + " "),
                    "unet-2 does not log resuming " + id + " at step " + step);
        });
    }

    @Test
    @Order(3)
    void sigtermCheckpointsInFlightWorkAndCommits() {
        startWorker("unet", "unet-3").awaitStarted(START_TIMEOUT);
        awaitUnetMembers(2);
        AppProcess leaving = workers.get("unet-2");
        long duplicatesBefore = count(workers.get("vae-1").output(), "Suppressed duplicate latents");

        List<String> ids = submitLongJobs(30);
        awaitProgress("unet-2", ids, 2 * CHECKPOINT_EVERY);
        workers.remove(leaving.name());
        stopped.put(leaving.name(), leaving);
        leaving.terminate();
        leaving.waitForExit(Duration.ofSeconds(40));
        String log = leaving.output();
        assertTrue(log.contains("unet: stopped with nothing in hand; offsets committed"), log);

        Map<String, JsonNode> done = events.awaitTerminal(ids, RUN_TIMEOUT, this::diagnostics);
        awaitQuiet();
        assertCompletedOnce(ids);
        assertContiguousSegments(done);
        Map<String, Integer> moved = handovers(done, "unet-2", "unet-3");
        assertFalse(moved.isEmpty(), "no request moved from unet-2 to unet-3");
        // A loop in flight at SIGTERM stopped at its next step and unet-3 took over exactly there.
        assertContinuedAtCheckpoints(log, "on shutdown", moved);
        // Offsets were committed on the way out: nothing unet-2 handled was done again.
        assertEquals(duplicatesBefore, count(workers.get("vae-1").output(), "Suppressed duplicate latents"));
        assertEquals(0, count(workers.get("unet-3").output(), "Dropped a duplicate denoising job"));
    }

    @Test
    @Order(4)
    void aWorkerJoiningUnderLoadTakesPartitionsWithoutRunningAnyLoopTwice() {
        AppProcess busy = workers.get("unet-3");
        long duplicatesBefore = count(workers.get("vae-1").output(), "Suppressed duplicate latents");
        List<String> ids = submitLongJobs(30, LONGER_JOB);
        awaitProgress("unet-3", ids, 2 * CHECKPOINT_EVERY);
        startWorker("unet", "unet-4").awaitStarted(START_TIMEOUT);

        Map<String, JsonNode> done = events.awaitTerminal(ids, RUN_TIMEOUT, this::diagnostics);
        awaitQuiet();
        assertCompletedOnce(ids);
        assertContiguousSegments(done);
        // The joining worker took partitions under load: it ran part of the burst.
        long byNewWorker = done.values().stream().filter(c -> unetStages(c).stream()
                .anyMatch(s -> s.get("worker").asText().equals("unet-4"))).count();
        assertTrue(byNewWorker > 0, "the joining worker took no work");
        // A loop in flight on a partition that moved stopped at its next step; unet-4 continued exactly there. Whether
        // any was in flight there depends on which partitions unet-3's batch held at that moment: every one that
        // was must have moved at its checkpoint.
        Map<String, Integer> moved = handovers(done, "unet-3", "unet-4");
        assertContinuedAtCheckpoints(busy.output(), "for its partition's next owner", moved);
        System.out.printf("MultiProcessPipelineIT: unet-4 ran %d of %d requests, %d of them taken over mid-loop%n",
                byNewWorker, ids.size(), moved.size());
        // No step of any request was computed twice: the moving partitions were committed before they moved.
        for (String id : ids) {
            List<Integer> steps = events.events(id).stream().filter(e -> e.get("type").asText().equals("denoising"))
                    .map(e -> e.get("step").asInt()).toList();
            assertEquals(new HashSet<>(steps).size(), steps.size(), () -> id + " ran steps twice: " + steps);
        }
        assertEquals(duplicatesBefore, count(workers.get("vae-1").output(), "Suppressed duplicate latents"));
        assertEquals(0, count(workers.get("unet-4").output(), "Dropped a duplicate denoising job"));
    }

    @Test
    @Order(5)
    void killNineOfTheTextEncoderMidBurstRedoesAtMostTheMessageInHand() {
        List<String> ids = submit(60, "\"prompt\":\"a grey stripe\",\"width\":64,\"height\":64,\"steps\":12,"
                + "\"guidance_scale\":3");
        // Mid-burst: some requests accepted, most not yet.
        Set<String> wanted = new HashSet<>(ids);
        events.await(e -> e.get("type").asText().equals("accepted") && wanted.contains(e.get("request_id").asText())
                && ids.indexOf(e.get("request_id").asText()) >= 10, RUN_TIMEOUT);
        AppProcess victim = workers.remove("text-encoder-1");
        stopped.put(victim.name(), victim);
        victim.killHard();
        startWorker("text-encoder", "text-encoder-2").awaitStarted(START_TIMEOUT);

        events.awaitTerminal(ids, RUN_TIMEOUT, this::diagnostics);
        awaitQuiet();
        // The message in hand at the kill may be redone; if its job had already finished, the redo answers with the
        // stored completed event, the same bytes again.
        assertCompletedOnce(ids, 1);
        // Strict commits: a request whose embeddings were handed on is never encoded again; only the one in hand
        // at the kill may be.
        List<String> reencoded = ids.stream().filter(id -> events.events(id).stream()
                .filter(e -> e.get("type").asText().equals("accepted")).count() > 1).toList();
        assertTrue(reencoded.size() <= 1, "encoded twice: " + reencoded);
        // One loop per request, so progress only moves forward.
        for (String id : ids) {
            List<Integer> steps = events.events(id).stream().filter(e -> e.get("type").asText().equals("denoising"))
                    .map(e -> e.get("step").asInt()).toList();
            for (int i = 1; i < steps.size(); i++) {
                assertTrue(steps.get(i) >= steps.get(i - 1), id + " progress went backwards: " + steps);
            }
        }
    }
}
