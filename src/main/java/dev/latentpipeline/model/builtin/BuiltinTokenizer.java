package dev.latentpipeline.model.builtin;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A tiny CLIP-format byte-level BPE vocabulary: the 256 byte symbols, the same with {@code </w>}, the merge results,
 * then {@code <|startoftext|>} and {@code <|endoftext|>} (CLIP's own ordering). The merges only build the colour words,
 * each into one whole-word token such as {@code red</w>}; every other word falls apart into byte tokens.
 */
final class BuiltinTokenizer {
    static final String BOS = "<|startoftext|>";
    static final String EOS = "<|endoftext|>";
    static final String END_OF_WORD = "</w>";
    static final int MAX_LENGTH = 77;

    private final Map<String, Integer> vocab;
    private final List<String> merges;

    private BuiltinTokenizer(Map<String, Integer> vocab, List<String> merges) {
        this.vocab = vocab;
        this.merges = merges;
    }

    static BuiltinTokenizer create(Iterable<String> words) {
        List<String> byteSymbols = new ArrayList<>(bytesToUnicode().values());
        // Each word is merged left to right: "r e" -> "re", then "re d</w>" -> "red</w>". The rank order of these
        // chains matters where one word contains another's first pair (green contains "r e"); BuiltinColors orders the
        // words so that every chain wins, and the tests check it with a standard CLIP BPE.
        Set<String> merges = new LinkedHashSet<>();
        for (String word : words) {
            List<String> symbols = new ArrayList<>();
            for (int i = 0; i < word.length(); i++) {
                // Lower-case ASCII letters are their own byte symbols, so the word's characters are vocabulary entries.
                if (word.charAt(i) < 'a' || word.charAt(i) > 'z') {
                    throw new IllegalArgumentException("colour words must be lower-case ASCII letters: " + word);
                }
                String c = String.valueOf(word.charAt(i));
                symbols.add(i == word.length() - 1 ? c + END_OF_WORD : c);
            }
            String prefix = symbols.get(0);
            for (int i = 1; i < symbols.size(); i++) {
                merges.add(prefix + " " + symbols.get(i));
                prefix += symbols.get(i);
            }
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String s : byteSymbols) {
            vocab.put(s, vocab.size());
        }
        for (String s : byteSymbols) {
            vocab.put(s + END_OF_WORD, vocab.size());
        }
        for (String merge : merges) {
            vocab.putIfAbsent(merge.replace(" ", ""), vocab.size());
        }
        vocab.put(BOS, vocab.size());
        vocab.put(EOS, vocab.size());
        return new BuiltinTokenizer(Collections.unmodifiableMap(vocab), List.copyOf(merges));
    }

    Map<String, Integer> vocab() {
        return vocab;
    }

    /** Merge lines ("a b"), in rank order, without the version header. */
    List<String> merges() {
        return merges;
    }

    int id(String token) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException("not in vocabulary: " + token);
        }
        return id;
    }

    /** GPT-2/CLIP's reversible byte -> printable unicode character map, in CLIP's vocabulary order. */
    static Map<Integer, String> bytesToUnicode() {
        List<Integer> bs = new ArrayList<>();
        for (int b = '!'; b <= '~'; b++) {
            bs.add(b);
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            bs.add(b);
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            bs.add(b);
        }
        List<Integer> cs = new ArrayList<>(bs);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (!bs.contains(b)) {
                bs.add(b);
                cs.add(256 + n++);
            }
        }
        Map<Integer, String> map = new LinkedHashMap<>();
        for (int i = 0; i < bs.size(); i++) {
            map.put(bs.get(i), new String(Character.toChars(cs.get(i))));
        }
        return map;
    }
}
