package dev.latentpipeline.storage;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.latentpipeline.embedded.EmbeddedS3;
import dev.latentpipeline.testing.RestartableS3;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What counts as an outage, and how long it is waited out, from failures real servers give: a closed port, S3Proxy's
 * own answers, an HTTP server answering 503 SlowDown as S3 does when it throttles, and S3Proxy stopped and restarted
 * on its port and folder.
 */
class StorageOutageTest {
    private static final String ACCESS = "outage-access";
    private static final String SECRET = "outage-secret-key";

    @TempDir
    Path dir;

    private static StorageException failure(Runnable call) {
        return assertThrows(StorageException.class, call::run);
    }

    @Test
    void aClosedPortIsAnOutage() {
        ImageStore store = new ImageStore("http://127.0.0.1:" + RestartableS3.freePort(), ACCESS, SECRET, "images");
        StorageException e = failure(() -> store.get("k"));
        assertTrue(StorageOutage.isOutage(e), e::getMessage);
    }

    @Test
    void answersThatRefuseTheRequestAreNoOutageAndEndOne() {
        try (EmbeddedS3 s3 = EmbeddedS3.builder().port(0).credentials(ACCESS, SECRET).start()) {
            AtomicLong now = new AtomicLong();
            StorageOutage outage = new StorageOutage(Duration.ofMinutes(1), now::get);
            ImageStore store = new ImageStore(s3.endpoint(), ACCESS, SECRET, "us-east-1", "images", outage);
            store.ensureBucket();

            StorageException missing = failure(() -> store.get("no/such.png"));
            assertEquals("NoSuchKey", missing.errorCode());
            assertFalse(StorageOutage.isOutage(missing));
            assertFalse(outage.shouldWait(missing), "a user's missing object fails at once");
            ImageStore wrongKey = new ImageStore(s3.endpoint(), ACCESS, "not-the-secret", "images");
            StorageException refused = failure(() -> wrongKey.get("x"));
            assertFalse(StorageOutage.isOutage(refused), refused::getMessage);

            // An outage under way ends with the first answer, even a refusal.
            outage.failed(failure(() -> new ImageStore("http://127.0.0.1:" + RestartableS3.freePort(), ACCESS,
                    SECRET, "images").get("k")));
            assertTrue(outage.current().isPresent());
            failure(() -> store.get("still/missing.png"));
            assertTrue(outage.current().isEmpty());
        }
    }

    @Test
    void throttlingAndServerErrorsAreOutages() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/slow", exchange -> {
            byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please "
                    + "reduce your request rate.</Message><Resource>/slow/k</Resource><RequestId>1</RequestId>"
                    + "</Error>").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/xml");
            exchange.sendResponseHeaders(503, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.createContext("/broken", exchange -> {
            exchange.sendResponseHeaders(502, -1); // a proxy in front with nothing behind it
            exchange.close();
        });
        server.start();
        try {
            String endpoint = "http://127.0.0.1:" + server.getAddress().getPort();
            StorageException slow = failure(() -> new ImageStore(endpoint, ACCESS, SECRET, "slow").get("k"));
            assertEquals("SlowDown", slow.errorCode());
            assertTrue(StorageOutage.isOutage(slow));
            StorageException broken = failure(() -> new ImageStore(endpoint, ACCESS, SECRET, "broken").get("k"));
            assertTrue(StorageOutage.isOutage(broken), broken::getMessage);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void theGraceCountsFromTheOutagesStartAndAnAnswerResetsIt() {
        AtomicLong now = new AtomicLong(1_000);
        StorageOutage outage = new StorageOutage(Duration.ofSeconds(10), now::get);
        StorageException refused = failure(() -> new ImageStore("http://127.0.0.1:" + RestartableS3.freePort(),
                ACCESS, SECRET, "images").get("k"));

        outage.failed(refused);
        assertTrue(outage.shouldWait(refused));
        now.addAndGet(Duration.ofMillis(9_999).toNanos());
        outage.failed(refused);
        assertTrue(outage.shouldWait(refused), "still inside the grace");
        assertEquals(2, outage.current().orElseThrow().failedCalls());
        assertEquals(Duration.ofMillis(1), outage.backoff(5), "the last pause ends at the deadline");
        now.addAndGet(Duration.ofMillis(1).toNanos());
        assertFalse(outage.shouldWait(refused), "the grace is over");
        assertTrue(outage.current().orElseThrow().pastGrace());
        RuntimeException explained = outage.explain(refused);
        assertTrue(explained instanceof StorageException);
        assertTrue(explained.getMessage().startsWith("object storage unreachable for 10.0 s, longer than "
                + "sd.s3.outage-grace (10.0 s): S3 get failed"), explained.getMessage());

        outage.answered();
        assertTrue(outage.current().isEmpty());
        outage.failed(refused);
        assertTrue(outage.shouldWait(refused), "a new outage has a grace of its own");
    }

    @Test
    void backOffDoublesFromHalfASecondToFive() {
        StorageOutage outage = new StorageOutage(Duration.ofMinutes(3));
        List<Long> pauses = java.util.stream.IntStream.range(0, 7).mapToObj(outage::backoff)
                .map(Duration::toMillis).toList();
        assertEquals(List.of(500L, 1000L, 2000L, 4000L, 5000L, 5000L, 5000L), pauses);
    }

    @Test
    void aCallWaitsOutARestartOfTheServer() throws Exception {
        try (RestartableS3 s3 = RestartableS3.start(dir, ACCESS, SECRET)) {
            StorageOutage outage = new StorageOutage(Duration.ofMinutes(1));
            ImageStore store = new ImageStore(s3.endpoint(), ACCESS, SECRET, "us-east-1", "images", outage);
            store.ensureBucket();
            byte[] bytes = "kept in the folder".getBytes(StandardCharsets.UTF_8);
            store.put("a/0.png", bytes, "image/png", Map.of());

            s3.stop();
            CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(
                    () -> outage.waitOut(() -> store.get("a/0.png"), () -> false));
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> outage.current().map(o -> o.failedCalls() >= 2).orElse(false));
            assertFalse(read.isDone(), "the call waits while storage is away");
            s3.restart();
            assertArrayEquals(bytes, read.get(20, TimeUnit.SECONDS));
            assertTrue(outage.current().isEmpty(), "the answer ended the outage");
        }
    }

    @Test
    void pastTheGraceCallsFailAtOnceAndSaySo() {
        StorageOutage outage = new StorageOutage(Duration.ofSeconds(1));
        ImageStore store = new ImageStore("http://127.0.0.1:" + RestartableS3.freePort(), ACCESS, SECRET,
                "us-east-1", "images", outage);
        long start = System.nanoTime();
        StorageException first = failure(() -> outage.waitOut(() -> store.get("k"), () -> false));
        Duration waited = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(waited.compareTo(Duration.ofSeconds(1)) >= 0 && waited.compareTo(Duration.ofSeconds(5)) < 0,
                "waited " + waited);
        assertTrue(first.getMessage().contains("longer than sd.s3.outage-grace (1.0 s)"), first.getMessage());
        assertEquals(ErrorCodes.STORAGE_ERROR, first.code().wireName());

        long again = System.nanoTime();
        failure(() -> outage.waitOut(() -> store.get("k"), () -> false));
        assertTrue(Duration.ofNanos(System.nanoTime() - again).compareTo(Duration.ofMillis(900)) < 0,
                "the outage's grace is spent: the next request does not wait a grace of its own");
    }

    @Test
    void workThatMustHandOnStopsWaiting() {
        StorageOutage outage = new StorageOutage(Duration.ofMinutes(1));
        ImageStore store = new ImageStore("http://127.0.0.1:" + RestartableS3.freePort(), ACCESS, SECRET,
                "us-east-1", "images", outage);
        StorageOutage.HandedOn handedOn = assertThrows(StorageOutage.HandedOn.class, () -> outage.waitOut(
                () -> store.get("k"), () -> outage.current().map(o -> o.failedCalls() >= 2).orElse(false)));
        assertTrue(handedOn.getCause() instanceof StorageException);
    }

    /** The wire name of storage_error, spelled out here so the test does not read it from the code it checks. */
    private static final class ErrorCodes {
        static final String STORAGE_ERROR = "storage_error";
    }
}
