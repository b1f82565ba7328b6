package dev.latentpipeline.text;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The text clean-up of OpenAI's CLIP tokenizer ({@code simple_tokenizer.py}): {@code ftfy.fix_text}
 * ({@link FtfyFixes}), then its {@code whitespace_clean} (every run of White_Space, as the {@code regex} module's
 * {@code \s} matches it, becomes one space; ends stripped), then Python's {@code str.lower()} of the whole text.
 * OpenAI also applies {@code html.unescape} twice after ftfy; entities are left as typed here (README, "Tokenizer").
 * Character properties come from the JDK's Unicode tables (Java 17: Unicode 13).
 */
final class ClipTextNormalizer {
    private static final Pattern WHITESPACE_RUN = Pattern.compile("\\p{IsWhite_Space}+");

    private ClipTextNormalizer() {
    }

    static String normalize(String text) {
        String fixed = FtfyFixes.fixText(text);
        String spaced = WHITESPACE_RUN.matcher(fixed).replaceAll(" ").strip();
        return lower(spaced);
    }

    /**
     * Python's {@code str.lower()}. Java's root-locale mapping is the same full Unicode mapping except for capital
     * sigma, where Java decides "final" by word boundaries and Python by the Unicode Final_Sigma rule, so sigma is
     * handled here and everything else is left to Java.
     */
    static String lower(String word) {
        if (word.indexOf('\u03A3') < 0) {
            return word.toLowerCase(Locale.ROOT);
        }
        StringBuilder out = new StringBuilder(word.length());
        int from = 0;
        for (int i = word.indexOf('\u03A3'); i >= 0; i = word.indexOf('\u03A3', from)) {
            out.append(word.substring(from, i).toLowerCase(Locale.ROOT));
            out.append(isFinalSigma(word, i) ? '\u03C2' : '\u03C3');
            from = i + 1;
        }
        return out.append(word.substring(from).toLowerCase(Locale.ROOT)).toString();
    }

    /** Final_Sigma: a cased letter before (skipping case-ignorables) and no cased letter after (likewise). */
    private static boolean isFinalSigma(String s, int index) {
        int j = index;
        int before = -1;
        while (j > 0) {
            int cp = s.codePointBefore(j);
            j -= Character.charCount(cp);
            if (!isCaseIgnorable(cp)) {
                before = cp;
                break;
            }
        }
        if (before < 0 || !isCased(before)) {
            return false;
        }
        j = index + 1;
        while (j < s.length()) {
            int cp = s.codePointAt(j);
            j += Character.charCount(cp);
            if (!isCaseIgnorable(cp)) {
                return !isCased(cp);
            }
        }
        return true;
    }

    private static boolean isCased(int cp) {
        return Character.isLowerCase(cp) || Character.isUpperCase(cp) || Character.isTitleCase(cp);
    }

    /** Unicode Case_Ignorable: Mn, Me, Cf, Lm, Sk, or Word_Break MidLetter, MidNumLet or Single_Quote. */
    private static boolean isCaseIgnorable(int cp) {
        switch (Character.getType(cp)) {
            case Character.NON_SPACING_MARK:
            case Character.ENCLOSING_MARK:
            case Character.FORMAT:
            case Character.MODIFIER_LETTER:
            case Character.MODIFIER_SYMBOL:
                return true;
            default:
                break;
        }
        switch (cp) {
            case '\'', '.', ':', 0x00B7, 0x0387, 0x055F, 0x05F4, 0x2018, 0x2019, 0x2024, 0x2027,
                    0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
                return true;
            default:
                return false;
        }
    }
}
