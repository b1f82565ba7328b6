package dev.latentpipeline.text;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2/CLIP "bytes_to_unicode" table: every byte value maps to one printable character, so BPE can run on
 * strings without ever seeing whitespace or control characters. Printable Latin-1 bytes map to themselves;
 * the remaining 68 bytes map, in byte order, to U+0100, U+0101, ...
 */
final class ByteUnicodeMap {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[256 + 68];

    static {
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) next++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteUnicodeMap() {
    }

    /** The UTF-8 bytes of {@code text}, each replaced by its stand-in character. */
    static String encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(out);
    }

    /** Inverse of {@link #encode}; characters outside the table are skipped, invalid UTF-8 becomes U+FFFD. */
    static String decode(String symbols) {
        byte[] bytes = new byte[symbols.length()];
        int n = 0;
        for (int i = 0; i < symbols.length(); i++) {
            char c = symbols.charAt(i);
            if (c < CHAR_TO_BYTE.length) {
                bytes[n++] = (byte) CHAR_TO_BYTE[c];
            }
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }
}
