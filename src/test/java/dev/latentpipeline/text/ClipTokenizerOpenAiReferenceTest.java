package dev.latentpipeline.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedWriter;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our tokenizer against OpenAI's CLIP tokenizer itself (simple_tokenizer.py's encode, with the real ftfy and
 * regex packages) on the differential corpus. Runs where python3 has ftfy and regex ({@code pip install ftfy
 * regex}); skipped with a message elsewhere, CI included. They must agree on every prompt except where HTML
 * entities or ftfy's mojibake repair changed the text, the two steps we leave out (README, "Tokenizer").
 */
class ClipTokenizerOpenAiReferenceTest {
    private static final Path SHARED = Path.of("../shared/clip-tokenizer");

    @TempDir
    Path dir;

    @Test
    void agreesWithOpenAiExceptForEntitiesAndMojibake() throws Exception {
        Assumptions.assumeTrue(Files.isRegularFile(SHARED.resolve("vocab.json")),
                "real CLIP tokenizer files not found at " + SHARED.toAbsolutePath() + "; skipping");
        String missing = pythonMissing();
        Assumptions.assumeTrue(missing == null, () -> "skipping the OpenAI reference comparison: " + missing);

        List<PromptCorpus.Prompt> corpus = PromptCorpus.generate(12_000, 20_241_201L);
        ObjectMapper json = new ObjectMapper();
        Path prompts = dir.resolve("prompts.jsonl");
        try (BufferedWriter out = Files.newBufferedWriter(prompts, StandardCharsets.UTF_8)) {
            for (PromptCorpus.Prompt p : corpus) {
                out.write(json.writeValueAsString(p.text()));
                out.write('\n');
            }
        }
        List<String> lines = run(script().toString(), SHARED.toString(), prompts.toString());
        assertEquals(corpus.size(), lines.size());

        ClipTokenizer ours = ClipTokenizer.load(SHARED);
        int agree = 0;
        int leftOut = 0;
        List<String> differences = new ArrayList<>();
        for (int i = 0; i < corpus.size(); i++) {
            JsonNode reference = json.readTree(lines.get(i));
            List<Integer> openAi = new ArrayList<>();
            reference.get("ids").forEach(id -> openAi.add(id.asInt()));
            boolean same = openAi.equals(ours.encode(corpus.get(i).text()));
            if (reference.get("entities").asBoolean() || reference.get("mojibake").asBoolean()) {
                leftOut++;
            } else if (same) {
                agree++;
            } else if (differences.size() < 20) {
                differences.add(corpus.get(i).text() + " -> openai " + openAi + " ours "
                        + ours.encode(corpus.get(i).text()));
            } else {
                differences.add("...");
            }
        }
        System.out.printf("OpenAI reference comparison, %d prompts: %d agree, %d changed by entities or mojibake"
                + " repair (not compared)%n", corpus.size(), agree, leftOut);
        assertEquals(List.of(), differences);
        assertTrue(agree >= 10_000, "compared " + agree);
    }

    private Path script() throws URISyntaxException {
        return Path.of(getClass().getResource("openai_clip_encode.py").toURI());
    }

    private static String pythonMissing() throws InterruptedException {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import ftfy, regex").redirectErrorStream(true).start();
            boolean done = p.waitFor(30, TimeUnit.SECONDS);
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return done && p.exitValue() == 0 ? null : "python3 lacks ftfy or regex (pip install ftfy regex): " + out;
        } catch (IOException e) {
            return "python3 not found: " + e.getMessage();
        }
    }

    private List<String> run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("python3"));
        command.addAll(List.of(args));
        Path output = dir.resolve("ids.jsonl");
        Process p = new ProcessBuilder(command).redirectOutput(output.toFile())
                .redirectError(dir.resolve("stderr.txt").toFile()).start();
        boolean done = p.waitFor(300, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        String stderr = Files.readString(dir.resolve("stderr.txt"));
        assertTrue(done, "the OpenAI tokenizer script did not finish in 300 s: " + stderr);
        assertEquals(0, p.exitValue(), stderr);
        return Files.readAllLines(output, StandardCharsets.UTF_8);
    }
}
