package dev.latentpipeline.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.latentpipeline.storage.ImageStore;
import io.minio.MinioClient;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;

/** The zero-setup default keeps objects in a folder: they are still there after a restart. */
class EmbeddedS3PersistenceTest {

    @TempDir
    Path dir;

    @Test
    void folderBackedStoreKeepsObjectsAcrossRestart() throws Exception {
        byte[] bytes = "kept across restarts".getBytes(StandardCharsets.UTF_8);
        try (EmbeddedS3 s3 = EmbeddedS3.builder().dataDir(dir).credentials("a", "secret-a").start()) {
            ImageStore store = new ImageStore(s3.endpoint(), "a", "secret-a", "images");
            store.ensureBucket();
            store.put("run/7.png", bytes, "image/png", Map.of("seed", "7"));
        }
        assertTrue(Files.isDirectory(dir.resolve("images")), "buckets are folders");

        try (EmbeddedS3 s3 = EmbeddedS3.builder().dataDir(dir).credentials("a", "secret-a").start()) {
            ImageStore store = new ImageStore(s3.endpoint(), "a", "secret-a", "images");
            store.ensureBucket();
            assertTrue(store.exists("run/7.png"));
            assertArrayEquals(bytes, store.get("run/7.png"));

            // Content type and user metadata live in extended attributes of the file.
            MinioClient client = MinioClient.builder().endpoint(s3.endpoint()).credentials("a", "secret-a")
                    .region("us-east-1").build();
            StatObjectResponse stat = client.statObject(
                    StatObjectArgs.builder().bucket("images").object("run/7.png").build());
            assertEquals("image/png", stat.contentType());
            assertEquals("7", stat.userMetadata().get("seed"));
        }
    }
}
