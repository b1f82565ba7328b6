package dev.latentpipeline.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Base64;

import org.gaul.s3proxy.S3ErrorCode;
import org.gaul.s3proxy.S3ProxyException;
import org.gaul.s3proxy.checksum.FlexChecksum;
import software.amazon.awssdk.checksums.SdkChecksum;

/**
 * Passes an {@code aws-chunked} request body through unchanged while checking it against the checksum in its
 * trailer, failing the read that would hand over the last data bytes when they do not match.
 * <p>
 * Why: S3Proxy 4.1 reads such a body only up to {@code x-amz-decoded-content-length}, so its own parser never
 * reaches the trailer and a body that disagrees with its checksum is stored (a checksum sent as a header is checked
 * by S3Proxy itself). Reading the few bytes after the data here, before the store has the whole object, means a
 * mismatch aborts the write: the store writes to a temporary file and renames it only when the stream ends cleanly.
 * Failures are thrown as S3Proxy's own exception, which it answers with an S3 error document
 * ({@code BadDigest}, {@code IncompleteBody}, {@code InvalidRequest}).
 */
final class TrailerChecksumInputStream extends InputStream {
    /** Chunk-size and trailer lines are short; anything longer is not aws-chunked framing. */
    private static final int MAX_LINE = 4096;
    /** What may follow the last data byte: the final chunk line, the trailers and the closing empty line. */
    private static final int MAX_READ_AHEAD = 64 * 1024;

    private enum State { SIZE_LINE, DATA, DATA_END, TRAILER, DONE }

    private final InputStream raw;
    private final FlexChecksum algorithm;
    private final SdkChecksum checksum;
    private final long decodedLength;

    private State state = State.SIZE_LINE;
    private final StringBuilder line = new StringBuilder();
    private long chunkRemaining;
    private int dataEndSeen;
    private long decodedSeen;
    private String trailerValue;

    /** Raw bytes read ahead of the consumer, still to be handed over. */
    private byte[] pending = new byte[0];
    private int pendingPos;

    TrailerChecksumInputStream(InputStream raw, FlexChecksum algorithm, long decodedLength) {
        this.raw = raw;
        this.algorithm = algorithm;
        this.checksum = algorithm.newChecksum();
        this.decodedLength = decodedLength;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (pendingPos < pending.length) {
            int n = Math.min(len, pending.length - pendingPos);
            System.arraycopy(pending, pendingPos, b, off, n);
            pendingPos += n;
            return n;
        }
        int n = raw.read(b, off, len);
        if (n < 0) {
            if (state != State.DONE) {
                throw failure(S3ErrorCode.INCOMPLETE_BODY, "the aws-chunked body ended before its final chunk");
            }
            return -1;
        }
        parse(b, off, n);
        if (state != State.DONE && decodedSeen >= decodedLength) {
            readAheadToEnd();
        }
        return n;
    }

    @Override
    public int available() throws IOException {
        return pending.length - pendingPos + raw.available();
    }

    @Override
    public void close() throws IOException {
        raw.close();
    }

    private void readAheadToEnd() throws IOException {
        ByteArrayOutputStream ahead = new ByteArrayOutputStream();
        byte[] buffer = new byte[1024];
        while (state != State.DONE) {
            int n = raw.read(buffer, 0, buffer.length);
            if (n < 0) {
                throw failure(S3ErrorCode.INCOMPLETE_BODY, "the aws-chunked body ended before its final chunk");
            }
            ahead.write(buffer, 0, n);
            if (ahead.size() > MAX_READ_AHEAD) {
                throw failure(S3ErrorCode.INVALID_REQUEST,
                        "more data than x-amz-decoded-content-length (" + decodedLength + ") announced");
            }
            parse(buffer, 0, n);
        }
        pending = ahead.toByteArray();
        pendingPos = 0;
    }

    private void parse(byte[] b, int off, int len) throws IOException {
        int i = off;
        int end = off + len;
        while (i < end) {
            switch (state) {
                case DATA -> {
                    int n = (int) Math.min(chunkRemaining, end - i);
                    checksum.update(b, i, n);
                    chunkRemaining -= n;
                    decodedSeen += n;
                    i += n;
                    if (chunkRemaining == 0) {
                        state = State.DATA_END;
                        dataEndSeen = 0;
                    }
                }
                case DATA_END -> {
                    byte expected = dataEndSeen == 0 ? (byte) '\r' : (byte) '\n';
                    if (b[i++] != expected) {
                        throw failure(S3ErrorCode.INVALID_REQUEST, "aws-chunked data not followed by CRLF");
                    }
                    if (++dataEndSeen == 2) {
                        state = State.SIZE_LINE;
                    }
                }
                case SIZE_LINE, TRAILER -> {
                    String complete = appendToLine(b[i++]);
                    if (complete != null) {
                        onLine(complete);
                    }
                }
                case DONE -> {
                    // Nothing belongs after the closing empty line; S3Proxy's parser will not read it either.
                    i = end;
                }
            }
        }
    }

    /** Adds one byte to the current line; the line without its CRLF once complete, else null. */
    private String appendToLine(byte c) throws IOException {
        line.append((char) (c & 0xFF));
        int n = line.length();
        if (n >= 2 && line.charAt(n - 2) == '\r' && line.charAt(n - 1) == '\n') {
            String complete = line.substring(0, n - 2);
            line.setLength(0);
            return complete;
        }
        if (n > MAX_LINE) {
            throw failure(S3ErrorCode.INVALID_REQUEST, "aws-chunked framing line longer than " + MAX_LINE);
        }
        return null;
    }

    private void onLine(String text) throws IOException {
        if (state == State.SIZE_LINE) {
            String size = text.split(";", 2)[0].trim();
            try {
                chunkRemaining = Long.parseLong(size, 16);
            } catch (NumberFormatException e) {
                throw failure(S3ErrorCode.INVALID_REQUEST, "aws-chunked chunk size is not hexadecimal: " + size);
            }
            if (chunkRemaining < 0) {
                throw failure(S3ErrorCode.INVALID_REQUEST, "negative aws-chunked chunk size");
            }
            state = chunkRemaining == 0 ? State.TRAILER : State.DATA;
            return;
        }
        if (!text.isEmpty()) {
            int colon = text.indexOf(':');
            if (colon > 0 && text.substring(0, colon).trim().equalsIgnoreCase(algorithm.header())) {
                trailerValue = text.substring(colon + 1).trim();
            }
            return; // other trailers, e.g. x-amz-trailer-signature, are S3Proxy's business
        }
        state = State.DONE;
        verify();
    }

    private void verify() throws IOException {
        if (decodedSeen != decodedLength) {
            throw failure(S3ErrorCode.INCOMPLETE_BODY, "the body carried " + decodedSeen
                    + " bytes, x-amz-decoded-content-length announced " + decodedLength);
        }
        if (trailerValue == null || trailerValue.isEmpty()) {
            throw failure(S3ErrorCode.INVALID_REQUEST,
                    "x-amz-trailer announced " + algorithm.header() + " but the body carried no value for it");
        }
        byte[] expected;
        try {
            expected = Base64.getDecoder().decode(trailerValue);
        } catch (IllegalArgumentException e) {
            throw failure(S3ErrorCode.INVALID_REQUEST, "value of " + algorithm.header() + " is not base64");
        }
        if (!Arrays.equals(expected, checksum.getChecksumBytes())) {
            throw failure(S3ErrorCode.BAD_DIGEST, "the " + algorithm.header()
                    + " trailer does not match the body that was sent");
        }
    }

    /** S3Proxy's servlet answers an IOException caused by its own exception with that S3 error. */
    private static IOException failure(S3ErrorCode code, String message) {
        return new IOException(message, new S3ProxyException(code, message));
    }
}
