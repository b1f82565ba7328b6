package dev.latentpipeline.text;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.text.Normalizer;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What {@code ftfy.fix_text} (ftfy 6.3, default settings) does to text, the first step of OpenAI's CLIP tokenizer,
 * in ftfy's order and repeated until nothing changes, as ftfy does: C1 controls read as Windows-1252, Latin
 * ligatures taken apart, full- and half-width forms to their usual width (U+3000 to a space), curly quotes
 * straightened, line breaks to {@code \n}, lone surrogates to U+FFFD, ANSI terminal escapes and invisible control
 * characters removed, then NFC.
 * <p>
 * Two default steps are left out. {@code unescape_html}: HTML entities stay as typed (README, "Tokenizer").
 * {@code fix_encoding}: undoing mojibake needs ftfy's heuristics over whole strings; a prompt typed into a form or
 * JSON is already decoded text, and guessing there would change text that is fine.
 */
final class FtfyFixes {
    private static final Charset WINDOWS_1252 = Charset.forName("windows-1252");

    /** ftfy's LIGATURES: Latin typographic ligatures and legacy digraphs (æ, œ and the like are kept). */
    private static final Map<Integer, String> LIGATURES = Map.ofEntries(
            Map.entry(0x0132, "IJ"), Map.entry(0x0133, "ij"), Map.entry(0x0149, "\u02BCn"),
            Map.entry(0x01F1, "DZ"), Map.entry(0x01F2, "Dz"), Map.entry(0x01F3, "dz"),
            Map.entry(0x01C4, "D\u017D"), Map.entry(0x01C5, "D\u017E"), Map.entry(0x01C6, "d\u017E"),
            Map.entry(0x01C7, "LJ"), Map.entry(0x01C8, "Lj"), Map.entry(0x01C9, "lj"),
            Map.entry(0x01CA, "NJ"), Map.entry(0x01CB, "Nj"), Map.entry(0x01CC, "nj"),
            Map.entry(0xFB00, "ff"), Map.entry(0xFB01, "fi"), Map.entry(0xFB02, "fl"), Map.entry(0xFB03, "ffi"),
            Map.entry(0xFB04, "ffl"), Map.entry(0xFB05, "\u017Ft"), Map.entry(0xFB06, "st"));

    /** ftfy's ANSI_RE; Python's {@code \d} is any decimal digit. */
    private static final Pattern TERMINAL_ESCAPE = Pattern.compile("\u001B\\[([\\p{Nd};]*)([a-zA-Z])");

    private FtfyFixes() {
    }

    static String fixText(String text) {
        String current = text;
        while (true) {
            String fixed = onePass(current);
            if (fixed.equals(current)) {
                return fixed;
            }
            current = fixed;
        }
    }

    private static String onePass(String text) {
        String s = mapCodePoints(text, FtfyFixes::c1Control);
        s = mapCodePoints(s, cp -> LIGATURES.get(cp));
        s = mapCodePoints(s, FtfyFixes::standardWidth);
        s = mapCodePoints(s, FtfyFixes::straightQuote);
        s = s.replace("\r\n", "\n").replace('\r', '\n').replace('\u2028', '\n').replace('\u2029', '\n')
                .replace('\u0085', '\n');
        s = replaceLoneSurrogates(s);
        s = TERMINAL_ESCAPE.matcher(s).replaceAll("");
        s = mapCodePoints(s, cp -> isRemovedControl(cp) ? "" : null);
        return Normalizer.normalize(s, Normalizer.Form.NFC);
    }

    /** fix_c1_controls: U+0080..U+009F as the Windows-1252 byte; the five bytes it leaves undefined stay. */
    private static String c1Control(int cp) {
        if (cp < 0x80 || cp > 0x9F) {
            return null;
        }
        String decoded = WINDOWS_1252.decode(ByteBuffer.wrap(new byte[] {(byte) cp})).toString();
        return decoded.equals("\uFFFD") ? null : decoded;
    }

    /** fix_character_width: U+FF01..U+FFEF to their NFKC form where it differs, and U+3000 to a space. */
    private static String standardWidth(int cp) {
        if (cp == 0x3000) {
            return " ";
        }
        if (cp < 0xFF01 || cp > 0xFFEF) {
            return null;
        }
        String c = String.valueOf((char) cp);
        String nfkc = Normalizer.normalize(c, Normalizer.Form.NFKC);
        return nfkc.equals(c) ? null : nfkc;
    }

    /** uncurl_quotes: U+02BC and U+2018..U+201B to ', U+201C..U+201F to ". */
    private static String straightQuote(int cp) {
        if (cp == 0x02BC || (cp >= 0x2018 && cp <= 0x201B)) {
            return "'";
        }
        if (cp >= 0x201C && cp <= 0x201F) {
            return "\"";
        }
        return null;
    }

    /** remove_control_chars: C0 controls but tab, LF, FF and CR, DEL, U+206A..U+206F, BOM, U+FFF9..U+FFFC. */
    private static boolean isRemovedControl(int cp) {
        return cp <= 0x08 || cp == 0x0B || (cp >= 0x0E && cp <= 0x1F) || cp == 0x7F
                || (cp >= 0x206A && cp <= 0x206F) || cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFC);
    }

    /** fix_surrogates: a Java string already pairs valid surrogates; what is left alone becomes U+FFFD. */
    private static String replaceLoneSurrogates(String s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean paired = Character.isHighSurrogate(c) && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1));
            if (paired) {
                if (out != null) {
                    out.append(c).append(s.charAt(i + 1));
                }
                i++;
                continue;
            }
            if (Character.isSurrogate(c)) {
                if (out == null) {
                    out = new StringBuilder(s.length()).append(s, 0, i);
                }
                out.append('\uFFFD');
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? s : out.toString();
    }

    private interface CodePointMapping {
        /** The replacement, or null to keep the code point. */
        String map(int cp);
    }

    private static String mapCodePoints(String s, CodePointMapping mapping) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int next = i + Character.charCount(cp);
            String replacement = mapping.map(cp);
            if (replacement != null && out == null) {
                out = new StringBuilder(s.length()).append(s, 0, i);
            }
            if (out != null) {
                if (replacement != null) {
                    out.append(replacement);
                } else {
                    out.append(s, i, next);
                }
            }
            i = next;
        }
        return out == null ? s : out.toString();
    }
}
