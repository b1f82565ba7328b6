package dev.latentpipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latentpipeline.testing.AppProcess;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The README's walk-through, as written: the packaged app started the way the README starts it (no settings: the
 * embedded broker and S3 server, every stage, the gateway), then each shell command of the "Walk-through" section,
 * read from README.md's code blocks, run with bash, and checked against what the README says it shows: the events
 * (the sample output's fields, a `completed` end), the PNGs (a PNG of the stated size and colour), the HTTP
 * answers (the sample's fields, the status the prose names).
 * <p>
 * Two deliberate departures, both outside the commands: where one of the README's ports (Kafka 9092, S3 9000, HTTP
 * 8080) is taken on this machine, the app gets a free one instead ({@code SD_EMBEDDED_KAFKA_PORT} with the
 * address and {@code SD_EMBEDDED_MODE=always}, {@code SD_EMBEDDED_S3_PORT}, {@code QUARKUS_HTTP_PORT}) and the
 * commands get that port in place of the README's;
 * and the built-in model is written under target/ rather than the shared temp folder.
 * <p>
 * kcat, s3cmd and curl may be absent ({@code .ci/run} installs them): each part is skipped, with a message,
 * without its tool.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReadmeWalkthroughIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path README = Path.of("README.md");
    static final String SECTION = "## Walk-through";
    static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    static final Duration JOB_TIMEOUT = Duration.ofSeconds(90);
    static final Map<String, double[]> COLOURS = Map.of("red", new double[] {1, 0, 0},
            "green", new double[] {0, 1, 0}, "blue", new double[] {0, 0, 1});
    /** The mean of a flat image from PNDM drifts by about 0.01 (docs/builtin-model.md, "The expected image"). */
    static final double COLOUR_TOLERANCE = 0.05;

    /** A shell command of the walk-through and the sample output the README shows right after it, if any. */
    record Step(String command, Optional<String> sample, String prose) {
    }

    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    private final Path workDir = Path.of("target", "readme-walkthrough-it").toAbsolutePath();
    private final Path shellDir = workDir.resolve("shell");
    private final Map<String, String> ports = new LinkedHashMap<>();
    private List<Step> steps;
    private AppProcess app;

    @BeforeAll
    void start() throws IOException {
        steps = walkthrough();
        assumeTrue(Stream.of("kcat", "curl").anyMatch(ReadmeWalkthroughIT::onPath),
                "neither kcat nor curl is on PATH (apt-get install kcat curl; .ci/run does): nothing of the"
                        + " README's walk-through can run");
        deleteRecursively(workDir);
        Files.createDirectories(shellDir);
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SD_MODEL_BUILTIN_DIR", workDir.resolve("model").toString());
        if (substituteIfTaken(9092, "SD_EMBEDDED_KAFKA_PORT", env)) {
            // The app's clients default to localhost:9092 whatever sd.embedded.kafka-port says: name the address, and
            // since a configured address turns the embedded broker off in auto mode, ask for it (docs/configuration.md).
            env.put("KAFKA_BOOTSTRAP_SERVERS", ports.get("localhost:9092"));
            env.put("SD_EMBEDDED_MODE", "always");
        }
        substituteIfTaken(9000, "SD_EMBEDDED_S3_PORT", env);
        substituteIfTaken(8080, "QUARKUS_HTTP_PORT", env);
        if (!ports.isEmpty()) {
            System.out.println("ReadmeWalkthroughIT: the README's ports are taken here; running with " + ports);
        }
        app = AppProcess.start("readme-app", workDir, env, Map.of());
        app.awaitStarted(START_TIMEOUT);
    }

    /** Where the README's port is taken here, the app gets a free one through {@code setting}, and so do the commands. */
    private boolean substituteIfTaken(int port, String setting, Map<String, String> env) throws IOException {
        if (free(port)) {
            return false;
        }
        int other = freePort();
        env.put(setting, Integer.toString(other));
        ports.put("localhost:" + port, "localhost:" + other);
        return true;
    }

    @AfterAll
    void stop() {
        if (app != null) {
            app.terminate();
            try {
                app.waitForExit(Duration.ofSeconds(30));
            } catch (AssertionError e) {
                System.out.println("ReadmeWalkthroughIT: " + e.getMessage());
            }
            app.close();
        }
    }

    /** Submit with kcat, read the events until completed, fetch the PNG with s3cmd. */
    @Test
    void kcatAndS3cmd() throws IOException {
        assumeTrue(onPath("kcat"), "kcat is not on PATH (apt-get install kcat; .ci/run does): the README's kcat"
                + " commands were not run");
        Step submit = step(s -> s.command().contains("kcat -P"));
        Step watch = step(s -> s.command().contains("kcat -C"));
        Step fetch = step(s -> s.command().startsWith("s3cmd"));
        JsonNode request = JSON.readTree(group(submit.command(), "echo '(\\{.*?\\})'"));
        String id = request.get("id").asText();

        Result submitted = run(submit.command(), Duration.ofSeconds(30));
        assertEquals(0, submitted.exit(), submitted::toString);

        AtomicReference<Result> last = new AtomicReference<>();
        Awaitility.await("the README's kcat -C shows " + id + " completed").atMost(JOB_TIMEOUT)
                .pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> {
                    last.set(run(watch.command(), Duration.ofSeconds(30)));
                    assertTrue(events(last.get().out(), id).stream().anyMatch(e -> terminal(e.get("type").asText())),
                            last.get()::toString);
                });
        List<JsonNode> events = events(last.get().out(), id);
        List<String> types = events.stream().map(e -> e.get("type").asText()).toList();
        assertEquals("accepted", types.get(0), types::toString);
        assertEquals("completed", types.get(types.size() - 1), () -> events.get(events.size() - 1).toString());
        assertTrue(types.containsAll(List.of("encoding", "denoising", "decoding")), types::toString);
        // The sample lines: each shown field is there, in an event of the same type.
        String sample = submitSample(watch);
        for (String line : sample.split("\n")) {
            assertTrue(line.startsWith(id + " "), "sample lines start with the key: " + line);
            JsonNode shown = JSON.readTree(line.substring(id.length() + 1));
            JsonNode real = events.stream().filter(e -> e.get("type").equals(shown.get("type"))).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + shown.get("type") + " event: " + types));
            assertShape(shown, real, shown.get("type").asText());
        }
        JsonNode completed = events.get(events.size() - 1);
        JsonNode image = completed.at("/images/0");
        assertEquals(id + "/0.png", image.get("key").asText(), completed::toString);
        assertEquals(request.get("seed").asLong(), image.get("seed").asLong(), completed::toString);

        assumeTrue(onPath("s3cmd"), "s3cmd is not on PATH (apt-get install s3cmd; .ci/run does): the kcat part"
                + " passed, the README's download was not run");
        Matcher url = Pattern.compile("s3://([^/\\s]+)/(\\S+)").matcher(fetch.command());
        assertTrue(url.find(), fetch.command());
        assertEquals(completed.get("bucket").asText(), url.group(1));
        assertEquals(image.get("key").asText(), url.group(2), "the README fetches the key the event names");
        Result fetched = run(fetch.command(), Duration.ofSeconds(60));
        assertEquals(0, fetched.exit(), fetched::toString);
        String[] words = fetch.command().split("\\s+");
        String target = words[words.length - 1];
        Path png = shellDir.resolve(target.startsWith("s3://") ? target.substring(target.lastIndexOf('/') + 1) : target);
        Matcher promise = Pattern.compile("a (\\d+) x (\\d+) (\\w+) PNG").matcher(fetch.prose());
        assertTrue(promise.find(), "the README says what the image is: " + fetch.prose());
        assertEquals(request.get("width").asInt(), Integer.parseInt(promise.group(1)));
        assertEquals(request.get("height").asInt(), Integer.parseInt(promise.group(2)));
        BufferedImage picture = assertPng(png, request);
        double[] colour = COLOURS.get(promise.group(3));
        assertNotNull(colour, "a colour this test knows: " + promise.group(3));
        double[] mean = meanColour(picture);
        for (int c = 0; c < 3; c++) {
            assertEquals(colour[c], mean[c], COLOUR_TOLERANCE, "channel " + c + " of " + png);
        }
    }

    /** Submit, follow, read the status and download the PNG over HTTP with curl. */
    @Test
    void curl() throws IOException {
        assumeTrue(onPath("curl"), "curl is not on PATH (apt-get install curl; .ci/run does): the README's curl"
                + " commands were not run");
        Step submit = step(s -> s.command().startsWith("curl") && s.command().contains("-X POST"));
        Step follow = step(s -> s.command().startsWith("curl") && s.command().endsWith("/events"));
        Step image = step(s -> s.command().startsWith("curl") && s.command().contains(" -o "));
        Step status = step(s -> s.command().startsWith("curl") && s != submit && s != follow && s != image);
        JsonNode body = JSON.readTree(group(submit.command(), "-d '(\\{.*?\\})'"));
        String id = body.get("id").asText();

        Result submitted = run(submit.command(), Duration.ofSeconds(30));
        assertEquals(0, submitted.exit(), submitted::toString);
        JsonNode answer = JSON.readTree(submitted.out());
        JsonNode shown = JSON.readTree(submitSample(submit));
        assertShape(shown, answer, "POST");
        for (String field : List.of("id", "status_url", "events_url")) {
            assertEquals(shown.get(field), answer.get(field), field + " of " + answer);
        }
        assertFalse(terminal(answer.get("status").asText()), answer::toString);

        // The stream ends by itself after the job's last event, as the README says.
        Result stream = run(follow.command(), JOB_TIMEOUT);
        assertEquals(0, stream.exit(), stream::toString);
        List<String[]> statuses = new ArrayList<>();
        for (String[] event : serverSentEvents(stream.out())) {
            JsonNode data = JSON.readTree(event[1]);
            if ("preview".equals(event[0])) {
                // The README: preview events with a small JPEG while it denoises.
                assertEquals(id, data.get("id").asText(), event[1]);
                assertTrue(data.get("data_url").asText().startsWith("data:image/jpeg;base64,"), "a JPEG preview");
            } else {
                assertEquals(event[0], data.get("status").asText(), "events are named by status");
                statuses.add(event);
            }
        }
        assertFalse(statuses.isEmpty(), stream::toString);
        assertEquals("completed", statuses.get(statuses.size() - 1)[0], stream::toString);

        Result got = run(status.command(), Duration.ofSeconds(30));
        assertEquals(0, got.exit(), got::toString);
        JsonNode job = JSON.readTree(got.out());
        assertEquals("completed", job.get("status").asText(), job::toString);
        JsonNode sample = JSON.readTree(submitSample(status));
        assertShape(sample, job, "GET");
        for (String field : List.of("width", "height", "seed", "prompt")) {
            assertEquals(body.get(field), job.at("/parameters/" + field), "parameters." + field);
        }
        assertEquals(body.get("seed").asLong(), job.at("/images/0/seed").asLong());
        assertEquals(sample.get("links"), job.get("links"));
        assertEquals(sample.at("/images/0/href"), job.at("/images/0/href"));
        // The prose names these fields; the waiting-only ones are absent once completed.
        for (String field : List.of("status", "progress", "parameters", "timings", "images")) {
            assertTrue(status.prose().contains("`" + field + "`"), "the README names " + field);
            assertTrue(job.has(field), field + " in " + job);
        }

        Result downloaded = run(image.command(), Duration.ofSeconds(30));
        assertEquals(0, downloaded.exit(), downloaded::toString);
        assertPng(shellDir.resolve(group(image.command(), " -o (\\S+)")), body);
    }

    // ---- the README -------------------------------------------------------------------------------------------

    /** The walk-through's commands in order, each with the sample block that follows its code block. */
    static List<Step> walkthrough() throws IOException {
        List<String> lines = Files.readAllLines(README, StandardCharsets.UTF_8);
        int start = lines.indexOf(SECTION);
        assertTrue(start >= 0, "README.md has no \"" + SECTION + "\" section");
        int end = start + 1;
        while (end < lines.size() && !lines.get(end).startsWith("## ")) {
            end++;
        }
        List<Step> steps = new ArrayList<>();
        List<String> prose = new ArrayList<>();
        List<String> pending = new ArrayList<>();
        String pendingProse = "";
        for (int i = start + 1; i < end; i++) {
            String line = lines.get(i);
            if (!line.startsWith("```")) {
                prose.add(line);
                continue;
            }
            String language = line.substring(3).strip();
            List<String> block = new ArrayList<>();
            for (i++; i < end && !lines.get(i).startsWith("```"); i++) {
                block.add(lines.get(i));
            }
            String paragraph = lastParagraph(prose);
            prose.clear();
            if (language.equals("bash")) {
                flush(steps, pending, Optional.empty(), pendingProse);
                pending.addAll(commands(block));
                pendingProse = paragraph;
            } else if (!pending.isEmpty() && paragraph.isBlank()) {
                flush(steps, pending, Optional.of(String.join("\n", block)), pendingProse);
            } else if (!pending.isEmpty() && (language.equals("json") || language.equals("text"))) {
                // A sample introduced by a sentence of its own ("Each line is ...").
                flush(steps, pending, Optional.of(String.join("\n", block)), pendingProse);
            }
        }
        flush(steps, pending, Optional.empty(), pendingProse);
        assertEquals(7, steps.size(), "the walk-through's commands (kcat -P, kcat -C, s3cmd, four curl): "
                + steps.stream().map(Step::command).toList());
        return steps;
    }

    private static void flush(List<Step> steps, List<String> commands, Optional<String> sample, String prose) {
        for (int i = 0; i < commands.size(); i++) {
            steps.add(new Step(commands.get(i), i == commands.size() - 1 ? sample : Optional.empty(), prose));
        }
        commands.clear();
    }

    private static String lastParagraph(List<String> prose) {
        List<String> paragraph = new ArrayList<>();
        for (int i = prose.size() - 1; i >= 0; i--) {
            if (prose.get(i).isBlank()) {
                if (!paragraph.isEmpty()) {
                    break;
                }
                continue;
            }
            paragraph.add(0, prose.get(i));
        }
        return String.join(" ", paragraph);
    }

    /** Shell commands: comments dropped, backslash continuations joined as the shell joins them. */
    static List<String> commands(List<String> block) {
        List<String> commands = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : block) {
            if (current.isEmpty() && (line.isBlank() || line.stripLeading().startsWith("#"))) {
                continue;
            }
            if (line.endsWith("\\")) {
                current.append(line, 0, line.length() - 1);
            } else {
                commands.add(current.append(line).toString().strip());
                current.setLength(0);
            }
        }
        return commands;
    }

    private Step step(java.util.function.Predicate<Step> which) {
        List<Step> matching = steps.stream().filter(which).toList();
        assertEquals(1, matching.size(), "one such command in the walk-through: " + matching);
        return matching.get(0);
    }

    private static String submitSample(Step step) {
        return step.sample().orElseThrow(() -> new AssertionError("the README shows no output for " + step.command()));
    }

    // ---- running and reading ----------------------------------------------------------------------------------

    /** Runs one README command with bash, in the walk-through's working folder, with this machine's ports. */
    private Result run(String readmeCommand, Duration timeout) {
        String command = readmeCommand;
        for (Map.Entry<String, String> port : ports.entrySet()) {
            command = command.replace(port.getKey(), port.getValue());
        }
        try {
            Path out = Files.createTempFile(workDir, "out", ".txt");
            Path err = Files.createTempFile(workDir, "err", ".txt");
            Process process = new ProcessBuilder("bash", "-c", command).directory(shellDir.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("still running after " + timeout + ": " + command + "\n"
                        + Files.readString(out) + Files.readString(err));
            }
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** kcat's "%k %s" lines for one key, the event JSON parsed. */
    private static List<JsonNode> events(String out, String id) throws IOException {
        List<JsonNode> events = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            assertTrue(line.startsWith(id + " "), "only " + id + "'s lines pass the README's grep: " + line);
            JsonNode event = JSON.readTree(line.substring(id.length() + 1));
            assertEquals(id, event.get("request_id").asText(), line);
            events.add(event);
        }
        return events;
    }

    /** {name, data} of each server-sent event. */
    private static List<String[]> serverSentEvents(String out) {
        List<String[]> events = new ArrayList<>();
        String name = null;
        StringBuilder data = new StringBuilder();
        for (String line : (out + "\n\n").split("\n", -1)) {
            if (line.isBlank()) {
                if (name != null || !data.isEmpty()) {
                    events.add(new String[] {name, data.toString()});
                }
                name = null;
                data.setLength(0);
            } else if (line.startsWith("event:")) {
                name = line.substring(6).strip();
            } else if (line.startsWith("data:")) {
                data.append(line.substring(5).strip());
            }
        }
        return events;
    }

    private static boolean terminal(String type) {
        return List.of("completed", "failed", "cancelled").contains(type);
    }

    /** Every field the README shows is in the real answer, with the same kind of value, at the same place. */
    private static void assertShape(JsonNode shown, JsonNode real, String where) {
        assertNotNull(real, where + " is missing");
        assertEquals(shown.getNodeType(), real.getNodeType(), where + ": " + real);
        if (shown.isObject()) {
            for (Iterator<String> it = shown.fieldNames(); it.hasNext();) {
                String field = it.next();
                assertShape(shown.get(field), real.get(field), where + "." + field);
            }
        } else if (shown.isArray()) {
            for (int i = 0; i < shown.size(); i++) {
                assertShape(shown.get(i), real.get(i), where + "[" + i + "]");
            }
        }
    }

    private static BufferedImage assertPng(Path file, JsonNode request) throws IOException {
        assertTrue(Files.isRegularFile(file), file + " was not written");
        byte[] bytes = Files.readAllBytes(file);
        byte[] signature = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        assertTrue(bytes.length > signature.length, file + " is empty");
        for (int i = 0; i < signature.length; i++) {
            assertEquals(signature[i], bytes[i], file + " is not a PNG");
        }
        BufferedImage image = ImageIO.read(file.toFile());
        assertEquals(request.get("width").asInt(), image.getWidth(), "width of " + file);
        assertEquals(request.get("height").asInt(), image.getHeight(), "height of " + file);
        return image;
    }

    private static double[] meanColour(BufferedImage image) {
        double[] sum = new double[3];
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                sum[0] += ((rgb >> 16) & 0xff) / 255.0;
                sum[1] += ((rgb >> 8) & 0xff) / 255.0;
                sum[2] += (rgb & 0xff) / 255.0;
            }
        }
        double n = (double) image.getWidth() * image.getHeight();
        return new double[] {sum[0] / n, sum[1] / n, sum[2] / n};
    }

    private static String group(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "/" + regex + "/ in " + text);
        return m.group(1);
    }

    static boolean onPath(String tool) {
        try {
            return new ProcessBuilder("bash", "-c", "command -v " + tool).start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Whether nothing listens on the port, on any address the README's localhost may reach. */
    private static boolean free(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
