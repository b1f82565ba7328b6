package dev.latentpipeline.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.latentpipeline.storage.ImageStore;

/**
 * boto3 with its default settings (CRC32 on every upload since 1.36, multipart above 8 MiB) against the embedded
 * server, run as a user would run it: python3 and boto3 from the machine. Skipped with a message where either is
 * missing. The script reports what it sent; the stored bytes are checked here through the app's own client.
 */
class EmbeddedS3Boto3Test {
    private static final String ACCESS = "boto-access";
    private static final String SECRET = "boto-secret-key";
    private static final String BUCKET = "sd-images";

    @TempDir
    Path dir;

    @Test
    void uploadsDownloadsAndRefusalWithDefaults() throws Exception {
        assumeBoto3();
        byte[] png = randomBytes(30_000, 1);
        byte[] large = randomBytes(9 * 1024 * 1024 + 17, 2); // above boto3's 8 MiB multipart threshold
        Files.write(dir.resolve("init.png"), png);
        Files.write(dir.resolve("large.bin"), large);

        try (EmbeddedS3 s3 = EmbeddedS3.builder().port(0).dataDir(dir.resolve("s3")).credentials(ACCESS, SECRET)
                .start()) {
            ImageStore store = new ImageStore(s3.endpoint(), ACCESS, SECRET, BUCKET);
            store.ensureBucket();
            JsonNode report = run(s3.endpoint());

            assertSentChecksum(report.get("put_object"), "crc32");
            assertSentChecksum(report.get("put_object_sha256"), "sha256");
            assertSentChecksum(report.get("upload_part"), "crc32");
            assertArrayEquals(png, store.get("inputs/init.png"));
            assertArrayEquals(png, store.get("inputs/init-sha256.png"));
            assertTrue(report.get("get_object_matches").asBoolean(), report::toString);

            List<String> ops = java.util.stream.StreamSupport.stream(report.get("upload_file_ops").spliterator(), false)
                    .map(JsonNode::asText).toList();
            assertEquals(List.of("CreateMultipartUpload", "UploadPart", "UploadPart", "CompleteMultipartUpload"),
                    ops.stream().sorted((a, b) -> order(a) - order(b)).toList(), "upload_file went multipart: " + ops);
            assertArrayEquals(large, store.get("inputs/large.bin"));
            assertArrayEquals(large, Files.readAllBytes(dir.resolve("large.back")));

            assertEquals("BadDigest", report.get("wrong_crc32").asText(), report::toString);
            assertEquals("404", report.get("wrong_crc32_head").asText(), report::toString);
            assertFalse(store.exists("inputs/wrong.png"));
        }
    }

    /** boto3 over plain HTTP sends the checksum as a header (over HTTPS as an aws-chunked trailer). */
    private static void assertSentChecksum(JsonNode request, String algorithm) {
        JsonNode headers = request.get("headers");
        String header = "x-amz-checksum-" + algorithm;
        boolean inHeader = headers.has(header);
        boolean inTrailer = headers.path("x-amz-trailer").asText().equalsIgnoreCase(header);
        assertTrue(inHeader || inTrailer, "no " + header + " sent: " + request);
    }

    private static int order(String op) {
        return switch (op) {
            case "CreateMultipartUpload" -> 0;
            case "UploadPart" -> 1;
            case "CompleteMultipartUpload" -> 2;
            default -> 3;
        };
    }

    private JsonNode run(String endpoint) throws IOException, InterruptedException, URISyntaxException {
        Path script = Path.of(getClass().getResource("boto3_defaults.py").toURI());
        Process p = new ProcessBuilder("python3", script.toString(), endpoint, ACCESS, SECRET, BUCKET, dir.toString())
                .redirectErrorStream(true).start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done, "boto3 script did not finish in 120 s: " + output);
        assertEquals(0, p.exitValue(), output);
        String last = output.strip().lines().reduce((a, b) -> b).orElse("");
        return new ObjectMapper().readTree(last);
    }

    private static void assumeBoto3() throws InterruptedException {
        String missing = boto3Missing();
        Assumptions.assumeTrue(missing == null, () -> "skipping the boto3 test: " + missing);
    }

    /** Why boto3 cannot be run here, or null. */
    private static String boto3Missing() throws InterruptedException {
        String reason;
        try {
            Process p = new ProcessBuilder("python3", "-c", "import boto3").redirectErrorStream(true).start();
            boolean done = p.waitFor(30, TimeUnit.SECONDS);
            reason = done && p.exitValue() == 0 ? null
                    : "python3 has no boto3 (pip install boto3): " + new String(p.getInputStream().readAllBytes(),
                    StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            reason = "python3 not found: " + e.getMessage();
        }
        return reason;
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] bytes = new byte[n];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
