package dev.latentpipeline.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SDXL's tokenizer_2 pads with "!" (id 0), which Hugging Face's tokenizers, and so diffusers, treat as a special
 * token wherever it occurs in the text. The Hugging Face mode ({@link ClipTokenizer#withSpecialTokensSplit()}) is
 * checked against Hugging Face's tokenizers library (DJL) set up as transformers' CLIP tokenizer with "!" added as
 * that special token, on the real CLIP vocabulary; the default (OpenAI) mode keeps "!" as text.
 */
class ClipTokenizerSpecialTokensTest {
    static final Path SHARED = Path.of("..", "shared", "clip-tokenizer");

    @TempDir
    static Path dir;
    private static ClipTokenizer openAi;
    private static ClipTokenizer huggingFace;
    private static HuggingFaceTokenizer fast;

    @BeforeAll
    static void load() throws IOException {
        Assumptions.assumeTrue(Files.isRegularFile(SHARED.resolve("vocab.json")),
                "real CLIP tokenizer files not found at " + SHARED.toAbsolutePath() + "; skipping");
        openAi = new ClipTokenizer(ClipTokenizerFiles.readVocab(SHARED.resolve("vocab.json")),
                new BpeMerges(ClipTokenizerFiles.readMerges(SHARED.resolve("merges.txt"))), "!", 77);
        huggingFace = openAi.withSpecialTokensSplit();
        fast = HuggingFaceTokenizer.builder().optTokenizerPath(FastClipTokenizerJson.write(SHARED, dir, "!"))
                .optAddSpecialTokens(false).optTruncation(false).optPadding(false).build();
    }

    @AfterAll
    static void close() {
        if (fast != null) {
            fast.close();
        }
    }

    @Test
    void aTypedPadTokenIsItsIdInHuggingFaceModeAndTextInOpenAiMode() {
        assertEquals(0, huggingFace.padId());
        // "hello!": OpenAI's regex makes "!" a word of its own, "!</w>" (256); Hugging Face cuts out the pad token.
        assertEquals(List.of(3306, 256), openAi.encode("hello!"));
        assertEquals(List.of(3306, 0), huggingFace.encode("hello!"));
        // "!!" is one BPE word for OpenAI; two pad tokens for Hugging Face.
        assertEquals(List.of(0, 0), huggingFace.encode("!!"));
        int[] ids = huggingFace.tokenize("red!").ids();
        assertArrayEquals(new int[] {49406, 736, 0, 49407, 0}, Arrays.copyOf(ids, 5));
    }

    @Test
    void agreesWithHuggingFacesTokenizerOnPromptsWithExclamationMarks() {
        List<String> prompts = new ArrayList<>(List.of("hello!", "wow!!!", "a!b", "!", "red! blue!?", "what?!",
                "!!!!!!", "hi !", "it's!", "<|endoftext|>!", "!<|startoftext|>", "stop!!! now!!", "?!?!", "a ! ! b",
                "HELLO!World", "x!y!z", "3!4", "cat!dog!!fish"));
        Random random = new Random(10);
        String alphabet = "ab cd!?,.'-!!3 ";
        for (int i = 0; i < 400; i++) {
            StringBuilder s = new StringBuilder();
            int length = 1 + random.nextInt(24);
            for (int k = 0; k < length; k++) {
                s.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            prompts.add(s.toString());
        }
        for (String prompt : prompts) {
            long[] ours = huggingFace.encode(prompt).stream().mapToLong(Integer::longValue).toArray();
            assertArrayEquals(fast.encode(prompt).getIds(), ours, () -> "\"" + prompt + "\"");
        }
    }
}
