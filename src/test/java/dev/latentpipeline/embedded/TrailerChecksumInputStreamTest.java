package dev.latentpipeline.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import java.util.zip.CRC32;

import org.gaul.s3proxy.S3ProxyException;
import org.gaul.s3proxy.checksum.FlexChecksum;
import org.junit.jupiter.api.Test;

/**
 * The trailer check on hand-framed aws-chunked bodies, read the way S3Proxy reads them: its chunk parser on top,
 * stopping at x-amz-decoded-content-length. Expected CRC32s come from java.util.zip.
 */
class TrailerChecksumInputStreamTest {

    @Test
    void matchingTrailerPassesTheBodyThroughByteForByte() throws IOException {
        byte[] data = random(10_000);
        byte[] framed = frame(data, 4096, "x-amz-checksum-crc32:" + crc32(data), false);
        assertArrayEquals(framed, readAll(checked(framed, data.length), 1));
        assertArrayEquals(framed, readAll(checked(framed, data.length), 777));
    }

    @Test
    void mismatchFailsTheReadThatHandsOverTheLastDataBytes() {
        byte[] data = random(10_000);
        byte[] framed = frame(data, 4096, "x-amz-checksum-crc32:" + crc32(random(5)), false);
        TrailerChecksumInputStream in = checked(framed, data.length);
        // A consumer that stops after the data (S3Proxy's limit) still gets the refusal.
        IOException e = assertThrows(IOException.class, () -> readUpTo(in, lastDataByteOffset(framed) + 1));
        assertEquals("BadDigest", errorCode(e));
    }

    @Test
    void signedFramingIsUnderstood() throws IOException {
        byte[] data = random(5000);
        byte[] framed = frame(data, 2000, "x-amz-checksum-crc32:" + crc32(data), true);
        assertArrayEquals(framed, readAll(checked(framed, data.length), 64));
        byte[] wrong = frame(data, 2000, "x-amz-checksum-crc32:" + crc32(new byte[0]), true);
        assertEquals("BadDigest",
                errorCode(assertThrows(IOException.class, () -> readAll(checked(wrong, data.length), 64))));
    }

    @Test
    void emptyBodyIsChecked() throws IOException {
        byte[] ok = frame(new byte[0], 10, "x-amz-checksum-crc32:" + crc32(new byte[0]), false);
        assertArrayEquals(ok, readAll(checked(ok, 0), 3));
        byte[] wrong = frame(new byte[0], 10, "x-amz-checksum-crc32:" + crc32(new byte[] {1}), false);
        assertEquals("BadDigest",
                errorCode(assertThrows(IOException.class, () -> readAll(checked(wrong, 0), 3))));
    }

    @Test
    void missingTrailerValueOrLengthMismatchOrTruncationIsRefused() {
        byte[] data = random(3000);
        byte[] noValue = frame(data, 1000, "x-amz-checksum-crc32:", false);
        assertEquals("InvalidRequest",
                errorCode(assertThrows(IOException.class, () -> readAll(checked(noValue, data.length), 100))));

        byte[] framed = frame(data, 1000, "x-amz-checksum-crc32:" + crc32(data), false);
        assertEquals("IncompleteBody", errorCode(assertThrows(IOException.class,
                () -> readAll(checked(framed, data.length + 1), 100))), "fewer bytes than announced");

        byte[] cut = Arrays.copyOf(framed, lastDataByteOffset(framed) + 1);
        assertEquals("IncompleteBody",
                errorCode(assertThrows(IOException.class, () -> readAll(checked(cut, data.length), 100))));
    }

    @Test
    void garbageFramingIsRefused() {
        byte[] garbage = "zz\r\nhello\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        assertEquals("InvalidRequest",
                errorCode(assertThrows(IOException.class, () -> readAll(checked(garbage, 5), 100))));
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private static TrailerChecksumInputStream checked(byte[] framed, long decodedLength) {
        return new TrailerChecksumInputStream(new ByteArrayInputStream(framed), FlexChecksum.CRC32, decodedLength);
    }

    /** aws-chunked as the SDKs write it; signed adds chunk-signature extensions and a trailer signature. */
    private static byte[] frame(byte[] data, int chunkSize, String trailer, boolean signed) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String ext = signed ? ";chunk-signature=" + "ab".repeat(32) : "";
        for (int off = 0; off < data.length; off += chunkSize) {
            int n = Math.min(chunkSize, data.length - off);
            out.writeBytes((Integer.toHexString(n) + ext + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(data, off, n);
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        StringBuilder tail = new StringBuilder("0" + ext + "\r\n" + trailer + "\r\n");
        if (signed) {
            tail.append("x-amz-trailer-signature:").append("cd".repeat(32)).append("\r\n");
        }
        tail.append("\r\n");
        out.writeBytes(tail.toString().getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    /** Where the last data byte sits: just before the CRLF that precedes the final "0" chunk line. */
    private static int lastDataByteOffset(byte[] framed) {
        String text = new String(framed, StandardCharsets.ISO_8859_1);
        return text.lastIndexOf("\r\n0") - 1;
    }

    private static byte[] readAll(InputStream in, int bufferSize) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[bufferSize];
        for (int n; (n = in.read(buffer, 0, bufferSize)) >= 0; ) {
            out.write(buffer, 0, n);
        }
        return out.toByteArray();
    }

    private static void readUpTo(InputStream in, int count) throws IOException {
        for (int i = 0; i < count; i++) {
            in.read();
        }
    }

    private static String errorCode(IOException e) {
        return assertInstanceOf(S3ProxyException.class, e.getCause(), e::toString).awsErrorDetails().errorCode();
    }

    private static String crc32(byte[] data) {
        CRC32 crc = new CRC32();
        crc.update(data);
        return Base64.getEncoder().encodeToString(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    private static byte[] random(int n) {
        byte[] bytes = new byte[n];
        new Random(n).nextBytes(bytes);
        return bytes;
    }
}
