package dev.latentpipeline.text;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A {@code tokenizer.json} for Hugging Face's tokenizers library built from a CLIP vocab.json and merges.txt the way
 * transformers' {@code CLIPConverter} (convert_slow_tokenizer.py) builds the fast CLIP tokenizer: normalizer NFC,
 * {@code \s+} to one space, lowercase; pre-tokenizer CLIP's split regex (matches kept, the rest removed) then
 * ByteLevel without prefix space; BPE with {@code </w>} as end-of-word suffix and {@code <|endoftext|>} as unknown;
 * bos/eos added by a RobertaProcessing post-processor; the two special tokens as added tokens.
 */
final class FastClipTokenizerJson {
    static final String SPLIT_REGEX = "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

    private FastClipTokenizerJson() {
    }

    static Path write(Path clipTokenizerDir, Path target) {
        return write(clipTokenizerDir, target, null);
    }

    /**
     * @param padToken a pad token to add as a special added token too, as SDXL's tokenizer_2 declares "!" (id 0) in
     *        its added_tokens_decoder ({@code normalized: false}: matched in the raw text); null for none
     */
    static Path write(Path clipTokenizerDir, Path target, String padToken) {
        ObjectMapper json = new ObjectMapper();
        Map<String, Integer> vocab;
        List<String> merges;
        try {
            vocab = json.readValue(clipTokenizerDir.resolve("vocab.json").toFile(), new TypeReference<>() { });
            merges = mergesAsTheSlowTokenizerReadsThem(clipTokenizerDir.resolve("merges.txt"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int bos = vocab.get(ClipTokenizer.START_OF_TEXT);
        int eos = vocab.get(ClipTokenizer.END_OF_TEXT);

        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        added.add(addedToken(json, bos, ClipTokenizer.START_OF_TEXT));
        added.add(addedToken(json, eos, ClipTokenizer.END_OF_TEXT));
        if (padToken != null) {
            added.add(addedToken(json, vocab.get(padToken), padToken).put("normalized", false));
        }

        ObjectNode normalizer = root.putObject("normalizer");
        normalizer.put("type", "Sequence");
        ArrayNode normalizers = normalizer.putArray("normalizers");
        normalizers.addObject().put("type", "NFC");
        ObjectNode replace = normalizers.addObject().put("type", "Replace");
        replace.putObject("pattern").put("Regex", "\\s+");
        replace.put("content", " ");
        normalizers.addObject().put("type", "Lowercase");

        ObjectNode preTokenizer = root.putObject("pre_tokenizer");
        preTokenizer.put("type", "Sequence");
        ArrayNode pre = preTokenizer.putArray("pretokenizers");
        ObjectNode split = pre.addObject().put("type", "Split");
        split.putObject("pattern").put("Regex", SPLIT_REGEX);
        split.put("behavior", "Removed").put("invert", true);
        // pre_tokenizers.ByteLevel(add_prefix_space=False): use_regex keeps its default, true.
        pre.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true)
                .put("use_regex", true);

        ObjectNode post = root.putObject("post_processor");
        post.put("type", "RobertaProcessing");
        post.putArray("sep").add(ClipTokenizer.END_OF_TEXT).add(eos);
        post.putArray("cls").add(ClipTokenizer.START_OF_TEXT).add(bos);
        post.put("trim_offsets", false).put("add_prefix_space", false);

        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true)
                .put("use_regex", true);

        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout");
        model.put("unk_token", ClipTokenizer.END_OF_TEXT).put("continuing_subword_prefix", "")
                .put("end_of_word_suffix", "</w>").put("fuse_unk", false).put("byte_fallback", false);
        ObjectNode vocabNode = model.putObject("vocab");
        vocab.entrySet().stream().sorted(Map.Entry.comparingByValue())
                .forEach(e -> vocabNode.put(e.getKey(), e.getValue()));
        ArrayNode mergeNode = model.putArray("merges");
        merges.forEach(mergeNode::add);

        Path file = target.resolve("tokenizer.json");
        try {
            Files.createDirectories(target);
            json.writeValue(file.toFile(), root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    private static ObjectNode addedToken(ObjectMapper json, int id, String content) {
        ObjectNode token = json.createObjectNode();
        token.put("id", id).put("content", content).put("single_word", false).put("lstrip", false)
                .put("rstrip", false).put("normalized", true).put("special", true);
        return token;
    }

    /**
     * Read here rather than with the code under test: {@code merges = f.read().split("\\n")[1:49152 - 256 - 2 + 1]},
     * as tokenization_clip.py does; the converter hands those on in rank order.
     */
    private static List<String> mergesAsTheSlowTokenizerReadsThem(Path file) throws IOException {
        List<String> lines = List.of(Files.readString(file).split("\n", -1));
        return lines.subList(1, Math.min(lines.size(), 49152 - 256 - 2 + 1)).stream()
                .filter(line -> !line.isBlank())
                .toList();
    }
}
