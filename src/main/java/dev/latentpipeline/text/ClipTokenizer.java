package dev.latentpipeline.text;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CLIP byte-level BPE tokenizer: the tokens of OpenAI's CLIP tokenizer ({@code clip/simple_tokenizer.py}, with
 * ftfy), laid out as diffusers lays them out for the text encoder: bos, at most {@code maxLength - 2} tokens, eos,
 * then the pad token up to {@code maxLength}.
 *
 * <p>Pipeline: normalise ({@link ClipTextNormalizer}), cut into pre-tokens with CLIP's regex (the two special token
 * texts included, as OpenAI matches them after normalising), map each pre-token's UTF-8 bytes to stand-in
 * characters ({@link ByteUnicodeMap}), then BPE-merge ({@link BpeMerges}) and look the pieces up.
 *
 * <p>{@link #withSpecialTokensSplit()} gives Hugging Face's handling of special tokens instead, which diffusers'
 * SDXL pipelines use: every special token (bos, eos, pad) is cut out of the raw text first and becomes its own id,
 * so a "!" typed in a prompt for SDXL's tokenizer_2, whose pad token it is, is id 0 rather than the text "!".
 *
 * <p>Immutable apart from the concurrent BPE cache, so one instance can serve concurrent callers.
 */
public final class ClipTokenizer {
    static final String START_OF_TEXT = "<|startoftext|>";
    static final String END_OF_TEXT = "<|endoftext|>";

    /**
     * CLIP's pre-tokenizer: special tokens, English contractions, letter runs, single digits, other-symbol runs,
     * compiled with IGNORECASE as OpenAI's is. {@code \\s} is the {@code regex} module's, White_Space. U+0345
     * (combining ypogegrammeni) is excluded from the last class because under Python regex's IGNORECASE its case
     * variant (iota) is a letter, so no alternative matches it there and it is silently skipped. Checked against
     * Python's {@code regex} on every code point Java 17 assigns, alone and between letters, digits and symbols.
     */
    private static final Pattern PRE_TOKEN = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]"
                    + "|[^\\p{IsWhite_Space}\\p{L}\\p{N}\\u0345]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);

    private final Map<String, Integer> vocab;
    private final BpeMerges merges;
    private final int maxLength;
    private final String padToken;
    private final int bosId;
    private final int eosId;
    private final int padId;
    /** Special token texts cut out of the raw text before normalising, longest first; empty: OpenAI's rules. */
    private final List<String> splitTokens;

    ClipTokenizer(Map<String, Integer> vocab, BpeMerges merges, String padToken, int maxLength) {
        this(vocab, merges, padToken, maxLength, List.of());
    }

    private ClipTokenizer(Map<String, Integer> vocab, BpeMerges merges, String padToken, int maxLength,
            List<String> splitTokens) {
        if (maxLength < 2) {
            throw new IllegalArgumentException("max length must leave room for bos and eos, got " + maxLength);
        }
        this.vocab = Map.copyOf(vocab);
        this.merges = merges;
        this.maxLength = maxLength;
        this.padToken = padToken;
        this.bosId = requireId(START_OF_TEXT, "bos");
        this.eosId = requireId(END_OF_TEXT, "eos");
        this.padId = requireId(padToken, "pad");
        this.splitTokens = splitTokens;
    }

    /**
     * The same vocabulary with Hugging Face's special-token handling (its tokenizers' added-token split, as
     * CLIPTokenizer's tokenize does it): occurrences of the bos, eos and pad texts in the raw prompt, matched
     * exactly and longest first, become those tokens; the text between them is tokenized as usual.
     */
    public ClipTokenizer withSpecialTokensSplit() {
        List<String> special = new ArrayList<>(new java.util.LinkedHashSet<>(List.of(START_OF_TEXT, END_OF_TEXT,
                padToken)));
        special.sort(java.util.Comparator.comparingInt(String::length).reversed());
        return new ClipTokenizer(vocab, merges, padToken, maxLength, List.copyOf(special));
    }

    /** Reads vocab.json and merges.txt, plus special_tokens_map.json and tokenizer_config.json when present. */
    public static ClipTokenizer load(Path tokenizerDir) {
        return ClipTokenizerFiles.load(tokenizerDir);
    }

    /** Ids for the text encoder: bos, at most {@code maxLength() - 2} prompt tokens, eos, then padding. */
    public TokenizedPrompt tokenize(String prompt) {
        List<String> tokens = tokens(prompt);
        int room = maxLength - 2;
        int kept = Math.min(tokens.size(), room);
        int[] ids = new int[maxLength];
        Arrays.fill(ids, padId);
        ids[0] = bosId;
        for (int i = 0; i < kept; i++) {
            ids[i + 1] = idOf(tokens.get(i));
        }
        ids[kept + 1] = eosId;
        List<String> dropped = tokens.subList(kept, tokens.size());
        return new TokenizedPrompt(ids, kept, !dropped.isEmpty(), dropped.size(), decode(dropped));
    }

    /** Token ids of {@code text} alone: no bos, eos, padding or truncation. */
    public List<Integer> encode(String text) {
        List<String> tokens = tokens(text);
        List<Integer> ids = new ArrayList<>(tokens.size());
        for (String token : tokens) {
            ids.add(idOf(token));
        }
        return ids;
    }

    /** The BPE token strings of {@code text} (e.g. {@code "cat</w>"}), before id lookup. */
    public List<String> tokens(String text) {
        Objects.requireNonNull(text, "text");
        if (splitTokens.isEmpty()) {
            return textTokens(text);
        }
        List<String> out = new ArrayList<>();
        int from = 0;
        int at = 0;
        while (at < text.length()) {
            String special = specialAt(text, at);
            if (special == null) {
                at++;
                continue;
            }
            out.addAll(textTokens(text.substring(from, at)));
            out.add(special);
            at += special.length();
            from = at;
        }
        out.addAll(textTokens(text.substring(from)));
        return out;
    }

    private String specialAt(String text, int at) {
        for (String special : splitTokens) {
            if (text.startsWith(special, at)) {
                return special;
            }
        }
        return null;
    }

    private List<String> textTokens(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = PRE_TOKEN.matcher(ClipTextNormalizer.normalize(text));
        while (m.find()) {
            String word = ByteUnicodeMap.encode(m.group());
            // As OpenAI's BPE cache: the special token texts stay whole and get no </w>.
            if (word.equals(START_OF_TEXT) || word.equals(END_OF_TEXT)) {
                out.add(word);
            } else {
                out.addAll(merges.apply(word));
            }
        }
        return out;
    }

    public int maxLength() {
        return maxLength;
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public int padId() {
        return padId;
    }

    public String padToken() {
        return padToken;
    }

    public int vocabSize() {
        return vocab.size();
    }

    /** Unknown pieces map to {@code <|endoftext|>}, HF's unk token (cannot happen with a complete CLIP vocab). */
    private int idOf(String token) {
        Integer id = vocab.get(token);
        return id != null ? id : eosId;
    }

    /** HF's convert_tokens_to_string: bytes back to UTF-8, each {@code </w>} becomes a space, then trim. */
    static String decode(List<String> tokens) {
        if (tokens.isEmpty()) {
            return "";
        }
        return ByteUnicodeMap.decode(String.join("", tokens)).replace(BpeMerges.END_OF_WORD, " ").strip();
    }

    private int requireId(String token, String role) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException(role + " token " + token + " is not in the vocabulary");
        }
        return id;
    }
}
