package dev.latentpipeline.text;

import java.text.Normalizer;
import java.util.Locale;

/**
 * The text clean-up HF {@code CLIPTokenizer} applies when ftfy is not installed: its
 * {@code BasicTokenizer(do_lower_case=True, strip_accents=False, do_split_on_punc=False)} followed by joining
 * the words with single spaces. In order:
 * <ol>
 *   <li>drop NUL, U+FFFD and every "C*" category character except tab/CR/LF (so zero-width joiners, BOMs,
 *       private-use and unassigned code points vanish); map tab/CR/LF and "Zs" spaces to a plain space;</li>
 *   <li>put spaces around CJK ideographs (each becomes its own word);</li>
 *   <li>NFC-normalise;</li>
 *   <li>split on Python's notion of whitespace, lower-case each word (accents are kept), join with one space.</li>
 * </ol>
 * Character categories come from the JDK's Unicode tables (Java 17: Unicode 13, as in Python 3.9/3.10).
 */
final class ClipTextNormalizer {
    private ClipTextNormalizer() {
    }

    static String normalize(String text) {
        StringBuilder cleaned = new StringBuilder(text.length() + 16);
        text.codePoints().forEach(cp -> {
            if (cp == 0 || cp == 0xFFFD || isControl(cp)) {
                return;
            }
            if (isBertWhitespace(cp)) {
                cleaned.append(' ');
            } else if (isCjkIdeograph(cp)) {
                cleaned.append(' ').appendCodePoint(cp).append(' ');
            } else {
                cleaned.appendCodePoint(cp);
            }
        });
        String nfc = Normalizer.normalize(cleaned, Normalizer.Form.NFC);

        StringBuilder out = new StringBuilder(nfc.length());
        int i = 0;
        while (i < nfc.length()) {
            int cp = nfc.codePointAt(i);
            if (isPythonSpace(cp)) {
                i += Character.charCount(cp);
                continue;
            }
            int start = i;
            while (i < nfc.length() && !isPythonSpace(nfc.codePointAt(i))) {
                i += Character.charCount(nfc.codePointAt(i));
            }
            if (out.length() > 0) {
                out.append(' ');
            }
            out.append(lower(nfc.substring(start, i)));
        }
        return out.toString();
    }

    /**
     * Python's {@code str.lower()} of one word. Java's root-locale mapping is the same full Unicode mapping except
     * for capital sigma, where Java decides "final" by word boundaries and Python by the Unicode Final_Sigma rule,
     * so sigma is handled here and everything else is left to Java.
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

    /** transformers' {@code _is_control}: any "C*" category, but tab, LF and CR count as whitespace instead. */
    static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') {
            return false;
        }
        switch (Character.getType(cp)) {
            case Character.CONTROL:
            case Character.FORMAT:
            case Character.SURROGATE:
            case Character.PRIVATE_USE:
            case Character.UNASSIGNED:
                return true;
            default:
                return false;
        }
    }

    /** transformers' {@code _is_whitespace}: space, tab, LF, CR or category "Zs". */
    static boolean isBertWhitespace(int cp) {
        return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r'
                || Character.getType(cp) == Character.SPACE_SEPARATOR;
    }

    /** Python's {@code str.isspace()}, used by {@code str.split()}: bidi class WS, B or S, or category "Zs". */
    static boolean isPythonSpace(int cp) {
        if (Character.getType(cp) == Character.SPACE_SEPARATOR) {
            return true;
        }
        byte bidi = Character.getDirectionality(cp);
        return bidi == Character.DIRECTIONALITY_WHITESPACE
                || bidi == Character.DIRECTIONALITY_PARAGRAPH_SEPARATOR
                || bidi == Character.DIRECTIONALITY_SEGMENT_SEPARATOR;
    }

    /** The CJK Unified/Compatibility Ideograph blocks BasicTokenizer isolates (not Hangul, Kana or CJK punctuation). */
    static boolean isCjkIdeograph(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF)
                || (cp >= 0x3400 && cp <= 0x4DBF)
                || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F)
                || (cp >= 0x2B740 && cp <= 0x2B81F)
                || (cp >= 0x2B820 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF)
                || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
