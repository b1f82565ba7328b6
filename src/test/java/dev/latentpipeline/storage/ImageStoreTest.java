package dev.latentpipeline.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.latentpipeline.embedded.EmbeddedS3;

/** ImageStore against a real S3 API server (S3Proxy, in memory), signed requests and all. */
class ImageStoreTest {

    private static final String ACCESS = "test-access";
    private static final String SECRET = "test-secret-key";

    private static EmbeddedS3 s3;
    private static ImageStore store;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        s3 = EmbeddedS3.builder().port(0).credentials(ACCESS, SECRET).start();
        store = new ImageStore(s3.endpoint(), ACCESS, SECRET, "images");
        store.ensureBucket();
    }

    @AfterAll
    static void stop() {
        if (s3 != null) {
            s3.close();
        }
    }

    @Test
    void endpointIsLoopbackUrl() {
        assertTrue(s3.endpoint().matches("http://127\\.0\\.0\\.1:\\d+"), s3.endpoint());
    }

    @Test
    void ensureBucketIsIdempotent() {
        store.ensureBucket();
        store.ensureBucket();
    }

    @Test
    void putThenGetReturnsTheSameBytes() {
        byte[] png = randomBytes(1_500_000);
        store.put("runs/1/image.png", png, "image/png", Map.of("prompt", "a red fox", "seed", "42"));
        assertArrayEquals(png, store.get("runs/1/image.png"));
    }

    @Test
    void existsTurnsTrueOnlyAfterPut() {
        assertFalse(store.exists("later.png"));
        store.put("later.png", new byte[] { 1, 2, 3 }, "image/png", Map.of());
        assertTrue(store.exists("later.png"));
    }

    @Test
    void getOfMissingKeySaysWhichKey() {
        StorageException e = assertThrows(StorageException.class, () -> store.get("missing.png"));
        assertEquals("NoSuchKey", e.errorCode());
        assertEquals("missing.png", e.key());
        assertTrue(e.getMessage().contains("'images'") && e.getMessage().contains("'missing.png'"), e.getMessage());
    }

    @Test
    void presignedUrlServesTheObjectAndRejectsATamperedSignature() throws Exception {
        byte[] png = randomBytes(200_000);
        store.put("shared.png", png, "image/png", null);
        String url = store.presignedGetUrl("shared.png", Duration.ofMinutes(5));

        HttpResponse<byte[]> ok = HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, ok.statusCode());
        assertArrayEquals(png, ok.body());
        assertEquals("image/png", ok.headers().firstValue("Content-Type").orElse(null));

        HttpResponse<byte[]> tampered = HTTP.send(HttpRequest.newBuilder(URI.create(tamper(url))).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(403, tampered.statusCode());
    }

    @Test
    void wrongSecretKeyFailsWithStorageException() {
        ImageStore wrong = new ImageStore(s3.endpoint(), ACCESS, "not-the-secret", "images");
        StorageException e = assertThrows(StorageException.class,
                () -> wrong.put("x.png", new byte[] { 1 }, "image/png", Map.of()));
        assertEquals("SignatureDoesNotMatch", e.errorCode(), e.getMessage());
        assertThrows(StorageException.class, () -> wrong.get("runs/1/image.png"));
    }

    /** Flips one hex digit of X-Amz-Signature. */
    private static String tamper(String url) {
        Matcher m = Pattern.compile("(X-Amz-Signature=[0-9a-f]*)([0-9a-f])").matcher(url);
        assertTrue(m.find(), url);
        char last = m.group(2).charAt(0);
        char flipped = last == '0' ? '1' : '0';
        return url.substring(0, m.start(2)) + flipped + url.substring(m.end(2));
    }

    private static byte[] randomBytes(int size) {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        return bytes;
    }
}
