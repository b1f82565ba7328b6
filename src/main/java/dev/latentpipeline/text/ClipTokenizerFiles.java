package dev.latentpipeline.text;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reads a Hugging Face tokenizer folder (the layout of a diffusers {@code tokenizer/} subfolder). */
final class ClipTokenizerFiles {
    static final int DEFAULT_MAX_LENGTH = 77;
    /** Configs without a real limit store a huge sentinel (int(1e30)); anything above this is treated as absent. */
    private static final long MAX_LENGTH_SENTINEL = 10_000;
    /** HF keeps merges 1..48894 of merges.txt (49152 tokens - 256 bytes - 2 specials); a longer file is cut. */
    static final int MAX_MERGES = 49152 - 256 - 2;

    private static final ObjectMapper JSON = new ObjectMapper();

    private ClipTokenizerFiles() {
    }

    static ClipTokenizer load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("tokenizer folder does not exist: " + dir.toAbsolutePath());
        }
        Map<String, Integer> vocab = readVocab(dir.resolve("vocab.json"));
        BpeMerges merges = new BpeMerges(readMerges(dir.resolve("merges.txt")));
        JsonNode specialMap = readOptionalJson(dir.resolve("special_tokens_map.json"));
        JsonNode config = readOptionalJson(dir.resolve("tokenizer_config.json"));

        // As in HF's from_pretrained: special_tokens_map.json overrides tokenizer_config.json; CLIP's default is eos.
        String pad = tokenContent(specialMap, "pad_token", dir.resolve("special_tokens_map.json"));
        if (pad == null) {
            pad = tokenContent(config, "pad_token", dir.resolve("tokenizer_config.json"));
        }
        if (pad == null) {
            pad = ClipTokenizer.END_OF_TEXT;
        }
        return new ClipTokenizer(vocab, merges, pad, maxLength(config, dir.resolve("tokenizer_config.json")));
    }

    static Map<String, Integer> readVocab(Path file) {
        JsonNode root = readJson(file);
        if (!root.isObject() || root.isEmpty()) {
            throw new IllegalArgumentException(file + ": expected a non-empty JSON object of token -> id");
        }
        Map<String, Integer> vocab = new HashMap<>(root.size() * 2);
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (!e.getValue().canConvertToInt() || !e.getValue().isIntegralNumber() || e.getValue().intValue() < 0) {
                throw new IllegalArgumentException(file + ": id of token " + e.getKey() + " is not a non-negative int: "
                        + e.getValue());
            }
            vocab.put(e.getKey(), e.getValue().intValue());
        }
        return vocab;
    }

    /** Rank = position after the optional "#version" header; as in HF, a repeated pair keeps its last rank. */
    static Map<String, Integer> readMerges(Path file) {
        List<String> lines = readLines(file);
        int first = !lines.isEmpty() && lines.get(0).startsWith("#version") ? 1 : 0;
        int end = Math.min(lines.size(), first + MAX_MERGES);
        Map<String, Integer> ranks = new HashMap<>(2 * (end - first));
        for (int i = first; i < end; i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue; // HF gives a blank line a rank that can never match
            }
            String[] pair = line.split("\\s+");
            if (pair.length != 2) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": expected two symbols, got: " + line);
            }
            ranks.put(pair[0] + ' ' + pair[1], i - first);
        }
        if (ranks.isEmpty()) {
            throw new IllegalArgumentException(file + ": no merges");
        }
        return ranks;
    }

    /** A token entry is either a plain string or an AddedToken object with a "content" field. */
    static String tokenContent(JsonNode json, String key, Path file) {
        if (json == null || json.get(key) == null || json.get(key).isNull()) {
            return null;
        }
        JsonNode node = json.get(key);
        if (node.isTextual()) {
            return node.textValue();
        }
        if (node.isObject() && node.path("content").isTextual()) {
            return node.get("content").textValue();
        }
        throw new IllegalArgumentException(file + ": " + key + " must be a string or an object with a string"
                + " \"content\", got " + node);
    }

    static int maxLength(JsonNode config, Path file) {
        JsonNode node = config == null ? null : config.get("model_max_length");
        if (node == null || node.isNull()) {
            return DEFAULT_MAX_LENGTH;
        }
        if (!node.isNumber()) {
            throw new IllegalArgumentException(file + ": model_max_length is not a number: " + node);
        }
        if (node.doubleValue() > MAX_LENGTH_SENTINEL) {
            return DEFAULT_MAX_LENGTH;
        }
        if (!node.isIntegralNumber() || node.intValue() < 2) {
            throw new IllegalArgumentException(file + ": model_max_length must be an integer >= 2, got " + node);
        }
        return node.intValue();
    }

    private static JsonNode readOptionalJson(Path file) {
        return Files.exists(file) ? readJson(file) : null;
    }

    private static JsonNode readJson(Path file) {
        try {
            JsonNode node = JSON.readTree(readString(file));
            if (node == null || node.isMissingNode()) {
                throw new IllegalArgumentException(file + ": empty JSON file");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": malformed JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static List<String> readLines(Path file) {
        return readString(file).lines().toList();
    }

    private static String readString(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer file " + file.toAbsolutePath() + ": " + e, e);
        }
    }
}
