package dev.latentpipeline.text;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Most tests run against the real Stable Diffusion 1.x tokenizer files in {@code ../shared/clip-tokenizer/}
 * (skipped when absent). Expected ids come from looking up hand-derived token strings in vocab.json, never from
 * this tokenizer's own output. The tiny hand-made vocabularies check loading, pad and merge-rank logic alone.
 */
class ClipTokenizerTest {
    private static final Path SHARED = Path.of("../shared/clip-tokenizer");
    private static final int BOS = 49406;
    private static final int EOS = 49407;

    private static ClipTokenizer shared;
    private static Map<String, Integer> sharedVocab;

    private static synchronized ClipTokenizer tokenizer() {
        Assumptions.assumeTrue(Files.isRegularFile(SHARED.resolve("vocab.json"))
                        && Files.isRegularFile(SHARED.resolve("merges.txt")),
                "real CLIP tokenizer files not found at " + SHARED.toAbsolutePath() + "; skipping");
        if (shared == null) {
            shared = ClipTokenizer.load(SHARED);
            try {
                sharedVocab = new ObjectMapper().readValue(SHARED.resolve("vocab.json").toFile(),
                        new TypeReference<Map<String, Integer>>() { });
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return shared;
    }

    /** Ids of the given vocab entries, failing loudly if an expected token string is not in the vocab. */
    private static List<Integer> ids(String... tokens) {
        tokenizer();
        List<Integer> ids = new ArrayList<>();
        for (String token : tokens) {
            Integer id = sharedVocab.get(token);
            assertNotNull(id, "test expects token " + token + " to be in vocab.json");
            ids.add(id);
        }
        return ids;
    }

    /** Independent statement of CLIP's byte-to-character table: printable Latin-1 stays, others go to U+0100+. */
    private static String byteLevel(String text) {
        StringBuilder sb = new StringBuilder();
        for (byte raw : text.getBytes(StandardCharsets.UTF_8)) {
            int b = raw & 0xFF;
            int shifted = 0;
            for (int x = 0; x < b; x++) {
                if (!((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE))) {
                    shifted++;
                }
            }
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
            sb.append(printable ? (char) b : (char) (0x100 + shifted));
        }
        return sb.toString();
    }

    // ---- real SD 1.x tokenizer -------------------------------------------------------------------------------

    @Test
    void knownPromptMatchesDiffusers() {
        TokenizedPrompt p = tokenizer().tokenize("a photo of a cat");
        int[] expected = new int[77];
        Arrays.fill(expected, EOS);
        int[] head = {49406, 320, 1125, 539, 320, 2368, 49407};
        System.arraycopy(head, 0, expected, 0, head.length);
        assertArrayEquals(expected, p.ids());
        assertEquals(5, p.tokenCount());
        assertEquals(7, p.length());
        assertEquals(6, p.eosIndex());
        assertFalse(p.truncated());
        assertEquals(0, p.droppedTokenCount());
        assertEquals("", p.droppedText());
    }

    @Test
    void sd1SpecialTokensAndDefaults() {
        ClipTokenizer t = tokenizer();
        assertEquals(77, t.maxLength());
        assertEquals(BOS, t.bosId());
        assertEquals(EOS, t.eosId());
        assertEquals(EOS, t.padId(), "no special_tokens_map.json: pad defaults to <|endoftext|>");
    }

    @Test
    void punctuationRunsStayTogetherButSplitFromWords() {
        // No BERT punctuation split: the regex cuts "hello" | "," and "world" | "!!!".
        assertEquals(ids("hello</w>", ",</w>", "world</w>", "!!!</w>"), tokenizer().encode("hello, world!!!"));
        // "." between digits and ":" between a letter and a digit are one-character symbol runs.
        assertEquals(ids("(</w>", "cat</w>", ":</w>", "1</w>", ".</w>", "2</w>", ")</w>"),
                tokenizer().encode("(cat:1.2)"));
    }

    @Test
    void digitsAreOneTokenEach() {
        assertEquals(ids("2</w>", "0</w>", "2</w>", "4</w>"), tokenizer().encode("2024"));
    }

    @Test
    void contractionsSplitOff() {
        assertEquals(ids("it</w>", "'s</w>", "don</w>", "'t</w>", "we</w>", "'re</w>", "they</w>", "'ve</w>",
                "i</w>", "'m</w>", "you</w>", "'ll</w>", "he</w>", "'d</w>"),
                tokenizer().encode("it's don't we're they've I'm you'll he'd"));
    }

    @Test
    void upperCaseIsLowered() {
        ClipTokenizer t = tokenizer();
        assertEquals(t.encode("a photo of a cat"), t.encode("A PHOTO Of A CaT"));
        assertEquals(ids("it</w>", "'s</w>"), t.encode("IT'S"));
    }

    @Test
    void whitespaceRunsTabsAndNewlinesCollapse() {
        ClipTokenizer t = tokenizer();
        assertEquals(t.encode("a photo of a cat"), t.encode("  a \t photo\n\nof\r\na\u00A0\u3000cat  "));
    }

    @Test
    void accentsAreKeptAsUtf8Bytes() {
        ClipTokenizer t = tokenizer();
        assertEquals(ids(byteLevel("café") + "</w>"), t.encode("café"));
        assertEquals(ids(byteLevel("café") + "</w>"), t.encode("cafe\u0301"), "NFC composes e + combining acute");
        assertNotEquals(t.encode("cafe"), t.encode("café"), "accents are not stripped");
    }

    @Test
    void aRunOfIdeographsAndKanaIsOneWord() {
        ClipTokenizer t = tokenizer();
        // As OpenAI's CLIP (and HF's fast tokenizer): ideographs are letters, so 日日 is one pre-token and only its
        // last piece carries </w>. HF's slow tokenizer without ftfy made each ideograph a word of its own.
        assertEquals(ids(byteLevel("日"), byteLevel("日") + "</w>"), t.encode("日日"));
        assertNotEquals(t.encode("日 本"), t.encode("日本"));
        List<String> tokyoTower = t.tokens("東京タワー");
        assertEquals(1, tokyoTower.stream().filter(p -> p.endsWith("</w>")).count(), tokyoTower.toString());
        assertTrue(tokyoTower.get(tokyoTower.size() - 1).endsWith("</w>"));
        assertNotEquals(t.encode("한 국"), t.encode("한국"), "Hangul is not split into separate words");
        assertEquals(t.encode("한국"), t.encode("한국 "));
    }

    @Test
    void emojiAreByteLevelTokensAndZeroWidthJoinerIsKept() {
        ClipTokenizer t = tokenizer();
        assertEquals(ids(byteLevel("🐱") + "</w>"), t.encode("🐱"));
        assertEquals(ids("cat</w>", byteLevel("🐱") + "</w>"), t.encode("cat🐱"));
        // U+200D is a symbol to CLIP's regex (ftfy keeps joiners): a ZWJ family is one symbol run, joiners included.
        assertNotEquals(t.encode("👨👩"), t.encode("👨\u200D👩"));
        assertEquals("👨\u200D👩", ClipTokenizer.decode(t.tokens("👨\u200D👩")));
        int unk = t.eosId();
        assertFalse(t.encode("👨‍👩‍👧 ❤️ 👍🏽").contains(unk), "every byte sequence reaches a vocab entry");
    }

    @Test
    void ftfyFixesApplyBeforeTokenizing() {
        ClipTokenizer t = tokenizer();
        assertEquals(ids("it</w>", "'s</w>"), t.encode("it\u2019s"), "curly apostrophe straightened, then a contraction");
        assertEquals(ids("cat</w>"), t.encode("ＣＡＴ"), "full-width Latin to ASCII");
        assertEquals(t.encode("fish"), t.encode("\uFB01sh"), "fi ligature taken apart");
        assertEquals(t.encode("a cat"), t.encode("\uFEFFa\u0000 cat\u001B[31m"), "BOM, NUL and terminal escape removed");
        assertEquals(t.encode("a\u2026b"), t.encode("a\u0085b"), "C1 control read as Windows-1252: NEL is an ellipsis");
    }

    @Test
    void greekFinalSigmaIsLoweredAsPythonDoes() {
        ClipTokenizer t = tokenizer();
        assertEquals(t.encode("οδος"), t.encode("ΟΔΟΣ"), "final capital sigma becomes ς");
        assertNotEquals(t.encode("οδοσ"), t.encode("ΟΔΟΣ"));
    }

    @Test
    void htmlEntitiesStayAsTyped() {
        ClipTokenizer t = tokenizer();
        assertEquals(ids("&</w>", "amp</w>", ";</w>"), t.encode("&amp;"));
    }

    @Test
    void specialTokenTextIsKeptWhole() {
        assertEquals(List.of(320, EOS, 321), tokenizer().encode("a<|endoftext|>b"));
        assertEquals(List.of(BOS, 320), tokenizer().encode("<|startoftext|>a"));
    }

    @Test
    void emptyPromptIsBosEosAndPadding() {
        for (String empty : List.of("", "   ", "\n\t")) {
            TokenizedPrompt p = tokenizer().tokenize(empty);
            int[] expected = new int[77];
            Arrays.fill(expected, EOS);
            expected[0] = BOS;
            assertArrayEquals(expected, p.ids());
            assertEquals(0, p.tokenCount());
            assertFalse(p.truncated());
        }
    }

    @Test
    void longPromptIsTruncatedAndStillEndsWithEos() {
        String prompt = String.join(" ", Collections.nCopies(100, "cat"));
        TokenizedPrompt p = tokenizer().tokenize(prompt);
        int[] ids = p.ids();
        assertEquals(77, ids.length);
        assertEquals(BOS, ids[0]);
        for (int i = 1; i <= 75; i++) {
            assertEquals(2368, ids[i], "position " + i);
        }
        assertEquals(EOS, ids[76]);
        assertTrue(p.truncated());
        assertEquals(75, p.tokenCount());
        assertEquals(25, p.droppedTokenCount());
        assertEquals(String.join(" ", Collections.nCopies(25, "cat")), p.droppedText());
    }

    @Test
    void exactlySeventyFiveTokensFit() {
        TokenizedPrompt p = tokenizer().tokenize(String.join(" ", Collections.nCopies(75, "cat")));
        assertFalse(p.truncated());
        assertEquals(75, p.tokenCount());
        assertEquals(EOS, p.ids()[76]);
        assertEquals(2368, p.ids()[75]);
    }

    @Test
    void concurrentCallsAgreeWithSequentialOnes() throws Exception {
        ClipTokenizer t = tokenizer();
        List<String> prompts = IntStream.range(0, 400)
                .mapToObj(i -> "a photo of cat number " + i + ", style " + Integer.toString(i * 7919, 36))
                .collect(Collectors.toList());
        List<List<Integer>> sequential = prompts.stream().map(t::encode).collect(Collectors.toList());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<Integer>>> futures = new ArrayList<>();
            for (String prompt : prompts) {
                futures.add(pool.submit(() -> t.encode(prompt)));
            }
            for (int i = 0; i < prompts.size(); i++) {
                assertEquals(sequential.get(i), futures.get(i).get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    // ---- tiny hand-made tokenizer ----------------------------------------------------------------------------

    private static final String TINY_VOCAB = "{\"!\": 0, \"a\": 1, \"b\": 2, \"c\": 3, \"a</w>\": 4, \"b</w>\": 5,"
            + " \"c</w>\": 6, \"ab\": 7, \"bc</w>\": 8, \"abc</w>\": 9, \"!</w>\": 10,"
            + " \"<|startoftext|>\": 11, \"<|endoftext|>\": 12}";

    private static Path tinyDir(Path dir, String merges) throws IOException {
        Files.writeString(dir.resolve("vocab.json"), TINY_VOCAB);
        Files.writeString(dir.resolve("merges.txt"), merges);
        return dir;
    }

    @Test
    void lowestRankedPairMergesFirst(@TempDir Path dir) throws IOException {
        // "abc" starts as a b c</w>. Ranked "b c</w>" before "a b": result a + bc</w>, and "a bc</w>" is no merge.
        ClipTokenizer t = ClipTokenizer.load(tinyDir(dir, "#version: 0.2\nb c</w>\na b\nab c</w>\n"));
        assertEquals(List.of("a", "bc</w>"), t.tokens("abc"));
        assertEquals(List.of(1, 8), t.encode("abc"));
    }

    @Test
    void reversedRanksGiveTheOtherSegmentation(@TempDir Path dir) throws IOException {
        ClipTokenizer t = ClipTokenizer.load(tinyDir(dir, "#version: 0.2\na b\nab c</w>\nb c</w>\n"));
        assertEquals(List.of("abc</w>"), t.tokens("abc"));
        assertEquals(List.of(9), t.encode("ABC"));
    }

    @Test
    void padTokenObjectFormAndModelMaxLength(@TempDir Path dir) throws IOException {
        tinyDir(dir, "#version: 0.2\na b\nab c</w>\n");
        Files.writeString(dir.resolve("special_tokens_map.json"),
                "{\"pad_token\": {\"content\": \"!\", \"lstrip\": false, \"normalized\": true}}");
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"model_max_length\": 6, \"pad_token\": \"<|endoftext|>\"}");
        ClipTokenizer t = ClipTokenizer.load(dir);
        assertEquals(0, t.padId(), "special_tokens_map.json wins over tokenizer_config.json");
        assertEquals(6, t.maxLength());
        assertArrayEquals(new int[] {11, 9, 12, 0, 0, 0}, t.tokenize("abc").ids());

        // The pad token only pads: a literal "!" in the text is text, a symbol run like any other (OpenAI's and
        // open_clip's tokenizers have no pad token; HF's split it off as an added token, id 0 without </w>).
        assertEquals(List.of(4, 10, 5), t.encode("a!b"));

        TokenizedPrompt p = t.tokenize("a b c a b");
        assertArrayEquals(new int[] {11, 4, 5, 6, 4, 12}, p.ids());
        assertTrue(p.truncated());
        assertEquals(1, p.droppedTokenCount());
        assertEquals("b", p.droppedText());
    }

    @Test
    void padTokenPlainStringAndHugeMaxLengthSentinel(@TempDir Path dir) throws IOException {
        tinyDir(dir, "#version: 0.2\na b\n");
        Files.writeString(dir.resolve("special_tokens_map.json"), "{\"pad_token\": \"!\"}");
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"model_max_length\": 1000000000000000019884624838656}");
        ClipTokenizer t = ClipTokenizer.load(dir);
        assertEquals(0, t.padId());
        assertEquals(77, t.maxLength());
    }

    @Test
    void missingOptionalFilesUseDefaults(@TempDir Path dir) throws IOException {
        ClipTokenizer t = ClipTokenizer.load(tinyDir(dir, "#version: 0.2\na b\n"));
        assertEquals(12, t.padId());
        assertEquals(77, t.maxLength());
        assertEquals(11, t.bosId());
        assertEquals(12, t.eosId());
    }

    @Test
    void symbolMissingFromVocabBecomesUnk(@TempDir Path dir) throws IOException {
        ClipTokenizer t = ClipTokenizer.load(tinyDir(dir, "#version: 0.2\na b\n"));
        assertEquals(List.of(4, 12, 12), t.encode("a z x"));
    }

    @Test
    void manyDistinctWordsOverflowTheCacheSafely(@TempDir Path dir) throws IOException {
        ClipTokenizer t = ClipTokenizer.load(tinyDir(dir, "#version: 0.2\na b\nab c</w>\n"));
        for (int i = 0; i < 12_000; i++) {
            String word = Integer.toString(i, 3).replace('0', 'a').replace('1', 'b').replace('2', 'c');
            assertEquals(word + "</w>", String.join("", t.tokens(word)), "BPE pieces must spell the word");
        }
        assertEquals(List.of(9), t.encode("abc"));
    }

    @Test
    void missingAndMalformedFilesFailClearly(@TempDir Path dir) throws IOException {
        UncheckedIOException missing = assertThrows(UncheckedIOException.class, () -> ClipTokenizer.load(dir));
        assertTrue(missing.getMessage().contains("vocab.json"), missing.getMessage());

        assertThrows(IllegalArgumentException.class, () -> ClipTokenizer.load(dir.resolve("nope")));

        tinyDir(dir, "#version: 0.2\na b c\n");
        IllegalArgumentException badMerge = assertThrows(IllegalArgumentException.class, () -> ClipTokenizer.load(dir));
        assertTrue(badMerge.getMessage().contains("merges.txt") && badMerge.getMessage().contains("line 2"),
                badMerge.getMessage());

        tinyDir(dir, "#version: 0.2\na b\n");
        Files.writeString(dir.resolve("vocab.json"), "{\"a\": 1,");
        IllegalArgumentException badJson = assertThrows(IllegalArgumentException.class, () -> ClipTokenizer.load(dir));
        assertTrue(badJson.getMessage().contains("vocab.json"), badJson.getMessage());

        tinyDir(dir, "#version: 0.2\na b\n");
        Files.writeString(dir.resolve("special_tokens_map.json"), "{\"pad_token\": \"<pad>\"}");
        IllegalArgumentException badPad = assertThrows(IllegalArgumentException.class, () -> ClipTokenizer.load(dir));
        assertTrue(badPad.getMessage().contains("<pad>"), badPad.getMessage());
    }
}
