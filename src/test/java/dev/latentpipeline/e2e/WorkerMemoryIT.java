package dev.latentpipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.latentpipeline.testing.AppProcess;
import dev.latentpipeline.testing.RealInfrastructure;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The worker roles started as the images start them (java @deploy/jvm.options, each role's JAVA_TOOL_OPTIONS and
 * MALLOC_ARENA_MAX from deploy/docker-compose.yml) serve a request together, and each stays under a generous RSS
 * bound. The figures themselves come from deploy/memory/measure.sh (docs/memory.md: 171-179 MB per worker with the
 * built-in model on 2 CPUs); the bound is far above them on purpose: it catches a flags file that no longer works
 * or no longer helps (on the JVM's defaults the same workers took 239-295 MB) without failing on a busier or
 * larger machine. Linux only (it reads /proc).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WorkerMemoryIT {
    static final long RSS_BOUND_KB = 250 * 1024;
    static final List<String> WORKERS = List.of("text-encoder", "unet", "vae");
    static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    static final Duration RUN_TIMEOUT = Duration.ofSeconds(90);
    static final Path JVM_OPTIONS = Path.of("deploy", "jvm.options");
    static final Path COMPOSE = Path.of("deploy", "docker-compose.yml");

    private final RealInfrastructure infrastructure = new RealInfrastructure();
    private final Map<String, AppProcess> workers = new LinkedHashMap<>();
    private final Path workDir = Path.of("target", "worker-memory-it").toAbsolutePath();

    @AfterAll
    void stop() {
        workers.values().forEach(AppProcess::close);
        infrastructure.stop();
    }

    /** The environment compose gives the service running {@code role}. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> composeEnvironment(String role) {
        try (Reader reader = Files.newBufferedReader(COMPOSE)) {
            Map<String, Object> compose = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
            Map<String, Map<String, Object>> services = (Map<String, Map<String, Object>>) compose.get("services");
            return services.values().stream().map(s -> (Map<String, Object>) s.getOrDefault("environment", Map.of()))
                    .filter(e -> role.equals(e.get("SD_ROLES"))).findFirst()
                    .orElseThrow(() -> new AssertionError("no compose service runs " + role));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long statusKb(long pid, String field) {
        try {
            return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                    .filter(l -> l.startsWith(field + ":")).findFirst()
                    .map(l -> Long.parseLong(l.replaceAll("\\D", ""))).orElseThrow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void workerRolesWithTheImagesFlagsServeARequestUnderTheBound() {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "needs Linux /proc");
        infrastructure.start();
        for (String role : WORKERS) {
            Map<String, String> env = AppProcess.roleEnv(role, role + "-memory", RealInfrastructure.bootstrapServers(),
                    RealInfrastructure.s3Endpoint(), RealInfrastructure.ACCESS_KEY, RealInfrastructure.SECRET_KEY,
                    workDir.resolve(role).resolve("model"));
            Map<String, Object> compose = composeEnvironment(role);
            for (String name : List.of("JAVA_TOOL_OPTIONS", "MALLOC_ARENA_MAX")) {
                assertTrue(compose.containsKey(name), "compose sets no " + name + " for " + role);
                env.put(name, String.valueOf(compose.get(name)));
            }
            List<String> flags = List.of("@" + JVM_OPTIONS.toAbsolutePath());
            workers.put(role, AppProcess.start(role, workDir.resolve(role), flags, env, Map.of()));
        }
        workers.values().forEach(w -> w.awaitStarted(START_TIMEOUT));

        String id = "memory-" + UUID.randomUUID();
        String body = "{\"id\":\"" + id + "\",\"seed\":1,\"prompt\":\"a red square\",\"width\":64,\"height\":64,"
                + "\"steps\":8}";
        try (EventLog events = new EventLog(RealInfrastructure.bootstrapServers(), "sd.events");
                KafkaProducer<String, byte[]> producer = RealInfrastructure.producer()) {
            producer.send(new ProducerRecord<>("sd.requests", id, body.getBytes(StandardCharsets.UTF_8)));
            producer.flush();
            JsonNode done = events.awaitTerminal(List.of(id), RUN_TIMEOUT, this::diagnostics).get(id);
            assertEquals("completed", done.get("type").asText(), done::toString);
        }

        StringBuilder figures = new StringBuilder();
        workers.forEach((role, w) -> figures.append(String.format(" %s %d MB (peak %d MB);", role,
                statusKb(w.pid(), "VmRSS") / 1024, statusKb(w.pid(), "VmHWM") / 1024)));
        for (Map.Entry<String, AppProcess> worker : workers.entrySet()) {
            long rss = statusKb(worker.getValue().pid(), "VmRSS");
            assertTrue(rss < RSS_BOUND_KB, worker.getKey() + " has " + rss / 1024 + " MB RSS, over the "
                    + RSS_BOUND_KB / 1024 + " MB bound:" + figures);
        }
        System.out.println("WorkerMemoryIT RSS after one request:" + figures);
    }

    String diagnostics() {
        StringBuilder out = new StringBuilder();
        workers.values().forEach(w -> out.append("---- ").append(w.name()).append('\n').append(w.tail()).append('\n'));
        return out.toString();
    }
}
