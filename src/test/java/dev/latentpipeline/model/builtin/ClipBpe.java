package dev.latentpipeline.model.builtin;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A standard CLIP BPE tokenizer written from CLIP's simple_tokenizer.py, independent of the generator: it reads only
 * vocab.json and merges.txt, so the tests check the files the way any CLIP tokenizer would use them.
 */
final class ClipBpe {
    private static final Pattern WORDS = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE);

    final Map<String, Integer> vocab;
    private final Map<String, Integer> ranks = new HashMap<>();
    private final String[] byteEncoder = new String[256];

    ClipBpe(Path tokenizerDir) throws IOException {
        vocab = new ObjectMapper().readValue(tokenizerDir.resolve("vocab.json").toFile(), new TypeReference<>() { });
        List<String> lines = Files.readAllLines(tokenizerDir.resolve("merges.txt"), StandardCharsets.UTF_8);
        for (int i = 1; i < lines.size(); i++) {  // line 0 is the "#version" header
            if (!lines.get(i).isEmpty()) {
                ranks.put(lines.get(i), i - 1);
            }
        }
        // bytes_to_unicode from CLIP: printable bytes map to themselves, the others to 256 + n in byte order.
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
            byteEncoder[b] = new String(Character.toChars(printable ? b : 256 + n++));
        }
    }

    /** BPE tokens of a text, without BOS/EOS. */
    List<String> tokens(String text) {
        String clean = text.strip().replaceAll("\\s+", " ").toLowerCase();
        List<String> out = new ArrayList<>();
        Matcher m = WORDS.matcher(clean);
        while (m.find()) {
            StringBuilder encoded = new StringBuilder();
            for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) {
                encoded.append(byteEncoder[b & 0xff]);
            }
            out.addAll(bpe(encoded.toString()));
        }
        return out;
    }

    /** input_ids padded to 77 the way SD pipelines call the tokenizer: BOS, tokens, EOS, then EOS as padding. */
    int[] inputIds(String text) {
        return inputIds(text, vocab.get("<|endoftext|>"));
    }

    /** BOS, up to 75 tokens, EOS, then {@code padId} up to 77 (padding="max_length", truncation=True). */
    int[] inputIds(String text, int padId) {
        int[] ids = new int[77];
        Arrays.fill(ids, padId);
        ids[0] = vocab.get("<|startoftext|>");
        List<String> tokens = tokens(text);
        int n = Math.min(tokens.size(), 75);
        for (int i = 0; i < n; i++) {
            ids[i + 1] = vocab.get(tokens.get(i));
        }
        ids[n + 1] = vocab.get("<|endoftext|>");
        return ids;
    }

    private List<String> bpe(String token) {
        List<String> word = new ArrayList<>();
        int[] cps = token.codePoints().toArray();
        for (int i = 0; i < cps.length; i++) {
            String s = new String(Character.toChars(cps[i]));
            word.add(i == cps.length - 1 ? s + "</w>" : s);
        }
        while (word.size() > 1) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < word.size(); i++) {
                Integer rank = ranks.get(word.get(i) + " " + word.get(i + 1));
                if (rank != null && rank < bestRank) {
                    bestRank = rank;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            // Merge every occurrence of the best pair, left to right, as CLIP does.
            String first = word.get(best);
            String second = word.get(best + 1);
            List<String> merged = new ArrayList<>();
            for (int i = 0; i < word.size(); i++) {
                if (i + 1 < word.size() && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i++;
                } else {
                    merged.add(word.get(i));
                }
            }
            word = merged;
        }
        return word;
    }
}
