package dev.latentpipeline.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;
import javax.imageio.ImageIO;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.latentpipeline.storage.ImageStore;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Npy;
import dev.latentpipeline.testing.AwsSdkS3;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/**
 * The current AWS SDK for Java v2 with its default settings against the embedded server, folder-backed as in the
 * zero-setup default: flexible checksums are sent and checked, bad ones are refused and leave nothing behind.
 * Expected checksums come from the JDK's CRC32/CRC32C/MessageDigest and a bitwise CRC-64/NVME, never from the
 * server's answers.
 */
class EmbeddedS3AwsSdkTest {
    private static final String ACCESS = "sdk-access";
    private static final String SECRET = "sdk-secret-key";
    private static final String BUCKET = "sd-images";

    @TempDir
    static Path dir;

    private static EmbeddedS3 s3;
    private static S3Client client;
    private static AwsSdkS3.SentRequests sent;
    private static ImageStore appStore;

    @BeforeAll
    static void start() {
        s3 = EmbeddedS3.builder().port(0).dataDir(dir.resolve("s3")).credentials(ACCESS, SECRET).start();
        sent = new AwsSdkS3.SentRequests();
        client = AwsSdkS3.recording(s3.endpoint(), ACCESS, SECRET, sent, null);
        client.createBucket(b -> b.bucket(BUCKET));
        appStore = new ImageStore(s3.endpoint(), ACCESS, SECRET, BUCKET);
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (s3 != null) {
            s3.close();
        }
    }

    @Test
    void initImageAndLatentsUploadedWithDefaultsReadBackIntact() throws IOException {
        byte[] png = png(40, 24);
        byte[] npy = Npy.write(noise(1, 1, 4, 8, 8));
        for (var object : List.of(new Upload("inputs/init.png", png, "image/png"),
                new Upload("inputs/noise.npy", npy, "application/octet-stream"))) {
            sent.clear();
            client.putObject(b -> b.bucket(BUCKET).key(object.key()).contentType(object.contentType()),
                    RequestBody.fromBytes(object.bytes()));
            assertSentFlexibleChecksum(sent.last(), "crc32");

            ResponseBytes<GetObjectResponse> got = client.getObjectAsBytes(b -> b.bucket(BUCKET).key(object.key()));
            assertArrayEquals(object.bytes(), got.asByteArray());
            assertEquals(object.contentType(), got.response().contentType());
            // The app reads what users upload through the MinIO SDK.
            assertArrayEquals(object.bytes(), appStore.get(object.key()));
        }
    }

    @ParameterizedTest
    @EnumSource(value = ChecksumAlgorithm.class, names = {"CRC32", "CRC32_C", "SHA1", "SHA256"})
    void everyAlgorithmTheSdkComputesIsAccepted(ChecksumAlgorithm algorithm) {
        byte[] body = randomBytes(200_000, algorithm.ordinal());
        String key = "sdk-computed/" + algorithm;
        sent.clear();
        client.putObject(b -> b.bucket(BUCKET).key(key).checksumAlgorithm(algorithm), RequestBody.fromBytes(body));
        assertSentFlexibleChecksum(sent.last(), wireName(algorithm));
        assertArrayEquals(body, client.getObjectAsBytes(b -> b.bucket(BUCKET).key(key)).asByteArray());
    }

    /** A value the caller computed travels as a header: checked, kept, and answered on HEAD and GET. */
    @ParameterizedTest
    @EnumSource(value = ChecksumAlgorithm.class, names = {"CRC32", "CRC32_C", "CRC64_NVME", "SHA1", "SHA256"})
    void checksumGivenInAHeaderIsCheckedKeptAndReported(ChecksumAlgorithm algorithm) {
        byte[] body = randomBytes(100_000, 100 + algorithm.ordinal());
        String value = expectedChecksum(algorithm, body);
        String key = "given/" + algorithm;
        sent.clear();
        client.putObject(b -> withChecksum(b.bucket(BUCKET).key(key), algorithm, value), RequestBody.fromBytes(body));
        assertEquals(value, sent.last().firstMatchingHeader("x-amz-checksum-" + wireName(algorithm)).orElse(null),
                () -> "sent as a header: " + sent.last().headers());

        HeadObjectResponse head = client.headObject(b -> b.bucket(BUCKET).key(key).checksumMode(ChecksumMode.ENABLED));
        assertEquals(value, reported(algorithm, head.checksumCRC32(), head.checksumCRC32C(),
                head.checksumCRC64NVME(), head.checksumSHA1(), head.checksumSHA256()));
        // Asked for (the SDK does not ask on GET by default), the stored value comes back and the SDK checks the
        // body against it.
        ResponseBytes<GetObjectResponse> got = client.getObjectAsBytes(
                b -> b.bucket(BUCKET).key(key).checksumMode(ChecksumMode.ENABLED));
        assertArrayEquals(body, got.asByteArray());
        GetObjectResponse r = got.response();
        assertEquals(value, reported(algorithm, r.checksumCRC32(), r.checksumCRC32C(), r.checksumCRC64NVME(),
                r.checksumSHA1(), r.checksumSHA256()));

        String otherKey = "given/wrong-" + algorithm;
        S3Exception wrong = assertThrows(S3Exception.class, () -> client.putObject(
                b -> withChecksum(b.bucket(BUCKET).key(otherKey), algorithm, value),
                RequestBody.fromBytes(randomBytes(100_000, 200 + algorithm.ordinal()))));
        assertRefused(wrong, otherKey);
    }

    @Test
    void bitwiseCrc64NvmeMatchesTheCatalogueCheckValue() {
        assertEquals(0xAE8B14860A799888L, Crc64Nvme.of("123456789".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void multipartUploadOfALargeFileWithDefaults() throws IOException {
        Path file = dir.resolve("large.bin");
        byte[] content = randomBytes(12 * 1024 * 1024 + 123, 7);
        Files.write(file, content);
        int partSize = 5 * 1024 * 1024; // S3's smallest part but the last
        String key = "inputs/large.bin";

        CreateMultipartUploadResponse upload = client.createMultipartUpload(b -> b.bucket(BUCKET).key(key));
        List<CompletedPart> parts = new ArrayList<>();
        try (InputStream in = Files.newInputStream(file)) {
            for (int number = 1; ; number++) {
                byte[] part = in.readNBytes(partSize);
                if (part.length == 0) {
                    break;
                }
                int n = number;
                sent.clear();
                UploadPartResponse done = client.uploadPart(b -> b.bucket(BUCKET).key(key)
                        .uploadId(upload.uploadId()).partNumber(n), RequestBody.fromBytes(part));
                assertSentFlexibleChecksum(sent.last(), "crc32");
                parts.add(CompletedPart.builder().partNumber(n).eTag(done.eTag())
                        .checksumCRC32(done.checksumCRC32()).build());
            }
        }
        assertEquals(3, parts.size());
        client.completeMultipartUpload(b -> b.bucket(BUCKET).key(key).uploadId(upload.uploadId())
                .multipartUpload(m -> m.parts(parts)));

        byte[] back = client.getObjectAsBytes(b -> b.bucket(BUCKET).key(key)).asByteArray();
        assertArrayEquals(sha256(content), sha256(back));
        assertArrayEquals(sha256(content), sha256(appStore.get(key)));
    }

    @Test
    void partWithWrongChecksumIsRefused() {
        String key = "inputs/bad-part.bin";
        CreateMultipartUploadResponse upload = client.createMultipartUpload(b -> b.bucket(BUCKET).key(key));
        String otherCrc = base64(crc(new CRC32(), new byte[] {1, 2, 3}), 4);
        S3Exception e = assertThrows(S3Exception.class, () -> client.uploadPart(b -> b.bucket(BUCKET).key(key)
                .uploadId(upload.uploadId()).partNumber(1).checksumCRC32(otherCrc),
                RequestBody.fromBytes(randomBytes(6 * 1024 * 1024, 9))));
        assertEquals(400, e.statusCode(), e::getMessage);
        assertEquals("BadDigest", e.awsErrorDetails().errorCode(), e::getMessage);
        client.abortMultipartUpload(b -> b.bucket(BUCKET).key(key).uploadId(upload.uploadId()));
        assertAbsent(key);
    }

    @Test
    void wrongChecksumIsRefusedAndNothingIsStored() {
        byte[] body = randomBytes(50_000, 11);
        String wrong = base64(crc(new CRC32(), "something else".getBytes(StandardCharsets.UTF_8)), 4);
        S3Exception e = assertThrows(S3Exception.class, () -> client.putObject(
                b -> b.bucket(BUCKET).key("inputs/corrupt.png").checksumCRC32(wrong), RequestBody.fromBytes(body)));
        assertRefused(e, "inputs/corrupt.png");

        // A refused overwrite keeps the object that was there.
        client.putObject(b -> b.bucket(BUCKET).key("inputs/kept.png"), RequestBody.fromBytes(body));
        assertThrows(S3Exception.class, () -> client.putObject(
                b -> b.bucket(BUCKET).key("inputs/kept.png").checksumCRC32(wrong),
                RequestBody.fromBytes(randomBytes(50_000, 12))));
        assertArrayEquals(body, client.getObjectAsBytes(b -> b.bucket(BUCKET).key("inputs/kept.png")).asByteArray());
    }

    /**
     * Over plain HTTP the SDK signs every aws-chunked chunk and puts a CRC32 in the trailer: a flipped bit breaks
     * both, and whichever check reads it first refuses the upload.
     */
    @Test
    void signedChunkedBodyCorruptedInTransitIsRefused() {
        AwsSdkS3.SentRequests seen = new AwsSdkS3.SentRequests();
        try (S3Client corrupting = AwsSdkS3.recording(s3.endpoint(), ACCESS, SECRET, seen,
                new FlipOneBodyByte(Apache5HttpClient.create()))) {
            S3Exception e = assertThrows(S3Exception.class, () -> corrupting.putObject(
                    b -> b.bucket(BUCKET).key("inputs/flipped.npy"), RequestBody.fromBytes(randomBytes(80_000, 13))));
            assertEquals("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                    seen.last().firstMatchingHeader("x-amz-content-sha256").orElse(null));
            assertTrue(java.util.Set.of("BadDigest", "SignatureDoesNotMatch").contains(e.awsErrorDetails().errorCode()),
                    e::getMessage);
            assertTrue(e.statusCode() == 400 || e.statusCode() == 403, e::getMessage);
        }
        assertAbsent("inputs/flipped.npy");
    }

    /**
     * Over HTTPS the SDKs send aws-chunked with an unsigned payload and the checksum in the trailer: then the
     * trailer is all that protects the body. Signed by the SDK's own signer, sent by its default transport.
     */
    @ParameterizedTest
    @EnumSource(value = ChecksumAlgorithm.class, names = {"CRC32", "CRC32_C", "SHA256"})
    void unsignedChunkedBodyIsCheckedAgainstItsTrailer(ChecksumAlgorithm algorithm) throws IOException {
        byte[] body = randomBytes(70_000, 300 + algorithm.ordinal());
        String key = "trailer/" + algorithm;
        assertEquals(200, UnsignedTrailerUpload.put(s3.endpoint(), BUCKET, key, body, algorithm, ACCESS, SECRET,
                false).status());
        assertArrayEquals(body, client.getObjectAsBytes(b -> b.bucket(BUCKET).key(key)).asByteArray());

        String flippedKey = "trailer/flipped-" + algorithm;
        UnsignedTrailerUpload.Answer refused = UnsignedTrailerUpload.put(s3.endpoint(), BUCKET, flippedKey, body,
                algorithm, ACCESS, SECRET, true);
        assertEquals(400, refused.status(), refused.body());
        assertTrue(refused.body().contains("<Code>BadDigest</Code>"), refused.body());
        assertAbsent(flippedKey);
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private record Upload(String key, byte[] bytes, String contentType) {
    }

    private static PutObjectRequest.Builder withChecksum(PutObjectRequest.Builder b, ChecksumAlgorithm algorithm,
                                                        String value) {
        return switch (algorithm) {
            case CRC32 -> b.checksumCRC32(value);
            case CRC32_C -> b.checksumCRC32C(value);
            case CRC64_NVME -> b.checksumCRC64NVME(value);
            case SHA1 -> b.checksumSHA1(value);
            case SHA256 -> b.checksumSHA256(value);
            default -> throw new AssertionError(algorithm);
        };
    }

    private static String reported(ChecksumAlgorithm algorithm, String crc32, String crc32c, String crc64nvme,
                                   String sha1, String sha256) {
        return switch (algorithm) {
            case CRC32 -> crc32;
            case CRC32_C -> crc32c;
            case CRC64_NVME -> crc64nvme;
            case SHA1 -> sha1;
            case SHA256 -> sha256;
            default -> throw new AssertionError(algorithm);
        };
    }

    /** The algorithm as it appears in x-amz-checksum-NAME. */
    private static String wireName(ChecksumAlgorithm algorithm) {
        return algorithm.toString().toLowerCase(java.util.Locale.ROOT);
    }

    /** The SDK's default: a CRC32 in a header, or announced in x-amz-trailer for an aws-chunked body. */
    private static void assertSentFlexibleChecksum(SdkHttpRequest request, String algorithm) {
        String header = "x-amz-checksum-" + algorithm;
        Optional<String> trailer = request.firstMatchingHeader("x-amz-trailer");
        boolean inHeader = request.firstMatchingHeader(header).isPresent();
        boolean inTrailer = trailer.isPresent() && trailer.get().equalsIgnoreCase(header);
        assertTrue(inHeader || inTrailer, "no " + header + " sent: " + request.headers());
        if (inTrailer) {
            assertTrue(request.firstMatchingHeader("Content-Encoding").orElse("").contains("aws-chunked"),
                    request.headers()::toString);
        }
    }

    private static void assertRefused(S3Exception e, String key) {
        assertEquals(400, e.statusCode(), e::getMessage);
        assertEquals("BadDigest", e.awsErrorDetails().errorCode(), e::getMessage);
        assertAbsent(key);
    }

    private static void assertAbsent(String key) {
        assertThrows(NoSuchKeyException.class, () -> client.getObjectAsBytes(b -> b.bucket(BUCKET).key(key)));
        assertTrue(!appStore.exists(key), key);
    }

    private static String expectedChecksum(ChecksumAlgorithm algorithm, byte[] body) {
        return switch (algorithm) {
            case CRC32 -> base64(crc(new CRC32(), body), 4);
            case CRC32_C -> base64(crc(new CRC32C(), body), 4);
            case CRC64_NVME -> base64(Crc64Nvme.of(body), 8);
            case SHA1 -> Base64.getEncoder().encodeToString(digest("SHA-1", body));
            case SHA256 -> Base64.getEncoder().encodeToString(digest("SHA-256", body));
            default -> throw new AssertionError(algorithm);
        };
    }

    private static long crc(Checksum checksum, byte[] data) {
        checksum.update(data, 0, data.length);
        return checksum.getValue();
    }

    /** S3's form: the big-endian bytes of the value, base64. */
    private static String base64(long value, int bytes) {
        ByteBuffer buffer = ByteBuffer.allocate(8).putLong(value);
        byte[] out = new byte[bytes];
        System.arraycopy(buffer.array(), 8 - bytes, out, 0, bytes);
        return Base64.getEncoder().encodeToString(out);
    }

    private static byte[] sha256(byte[] data) {
        return digest("SHA-256", data);
    }

    private static byte[] digest(String algorithm, byte[] data) {
        try {
            return MessageDigest.getInstance(algorithm).digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] bytes = new byte[n];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static FloatTensor noise(long seed, long... shape) {
        FloatTensor t = FloatTensor.zeros(shape);
        Random random = new Random(seed);
        for (int i = 0; i < t.data().length; i++) {
            t.data()[i] = (float) random.nextGaussian();
        }
        return t;
    }

    private static byte[] png(int width, int height) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, (x * 6) << 16 | (y * 10) << 8 | 0x40);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(image, "png", out));
        return out.toByteArray();
    }

    /** The default transport, except that one byte of the body, past its first line, arrives flipped. */
    private static final class FlipOneBodyByte implements SdkHttpClient {
        private final SdkHttpClient delegate;

        FlipOneBodyByte(SdkHttpClient delegate) {
            this.delegate = delegate;
        }

        @Override
        public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
            if (request.contentStreamProvider().isEmpty()) {
                return delegate.prepareRequest(request);
            }
            byte[] body;
            try (InputStream in = request.contentStreamProvider().get().newStream()) {
                body = in.readAllBytes();
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            int lineEnd = new String(body, StandardCharsets.ISO_8859_1).indexOf("\r\n");
            body[Math.max(lineEnd, 0) + 100] ^= 0x01;
            byte[] flipped = body;
            return delegate.prepareRequest(HttpExecuteRequest.builder().request(request.httpRequest())
                    .contentStreamProvider(() -> new ByteArrayInputStream(flipped)).build());
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
