package dev.latentpipeline.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-pair merging of one pre-token: start from single characters (the last one carrying the {@code </w>}
 * end-of-word mark) and repeatedly merge every occurrence of the adjacent pair with the lowest rank until no
 * ranked pair is left. Results are cached; the cache is thread-safe and dropped wholesale when it grows too big.
 */
final class BpeMerges {
    static final String END_OF_WORD = "</w>";
    private static final int CACHE_LIMIT = 10_000;

    /** Key "left right": BPE symbols never contain a space, because the byte map avoids it. */
    private final Map<String, Integer> ranks;
    private final ConcurrentHashMap<String, List<String>> cache = new ConcurrentHashMap<>();

    BpeMerges(Map<String, Integer> ranks) {
        this.ranks = Map.copyOf(ranks);
    }

    int size() {
        return ranks.size();
    }

    List<String> apply(String word) {
        List<String> cached = cache.get(word);
        if (cached != null) {
            return cached;
        }
        List<String> result = List.copyOf(merge(word));
        if (cache.size() >= CACHE_LIMIT) {
            cache.clear();
        }
        cache.put(word, result);
        return result;
    }

    private List<String> merge(String word) {
        List<String> symbols = new ArrayList<>(word.length());
        for (int i = 0; i < word.length(); i++) {
            symbols.add(String.valueOf(word.charAt(i)));
        }
        int last = symbols.size() - 1;
        symbols.set(last, symbols.get(last) + END_OF_WORD);

        while (symbols.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            String first = null;
            String second = null;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer rank = ranks.get(symbols.get(i) + ' ' + symbols.get(i + 1));
                if (rank != null && rank < bestRank) {
                    bestRank = rank;
                    first = symbols.get(i);
                    second = symbols.get(i + 1);
                }
            }
            if (first == null) {
                break;
            }
            // Merge every non-overlapping occurrence, scanning left to right.
            List<String> merged = new ArrayList<>(symbols.size());
            for (int i = 0; i < symbols.size(); i++) {
                if (i + 1 < symbols.size() && symbols.get(i).equals(first) && symbols.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i++;
                } else {
                    merged.add(symbols.get(i));
                }
            }
            symbols = merged;
        }
        return symbols;
    }
}
