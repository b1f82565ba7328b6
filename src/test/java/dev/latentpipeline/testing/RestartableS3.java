package dev.latentpipeline.testing;

import dev.latentpipeline.embedded.EmbeddedS3;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;

/**
 * A real S3 API server (S3Proxy on a folder, in this JVM) that a test can take away and bring back: {@link #stop}
 * closes it (clients get connection refused), {@link #restart} starts a new server on the same port and the same
 * data folder, so buckets and objects written before the outage are there after it, as with a restarted MinIO.
 */
public final class RestartableS3 implements AutoCloseable {
    private final Path dataDir;
    private final String accessKey;
    private final String secretKey;
    private final int port;
    private EmbeddedS3 server;

    private RestartableS3(Path dataDir, String accessKey, String secretKey, int port) {
        this.dataDir = dataDir;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
        this.port = port;
    }

    /** Starts a server on a free port, keeping its objects in {@code dataDir}. */
    public static RestartableS3 start(Path dataDir, String accessKey, String secretKey) {
        RestartableS3 s3 = new RestartableS3(dataDir, accessKey, secretKey, freePort());
        s3.restart();
        return s3;
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public synchronized boolean running() {
        return server != null;
    }

    /** The outage: the server closes its port; what it stored stays in the folder. */
    public synchronized void stop() {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    /** Back on the same port and folder. */
    public synchronized void restart() {
        if (server == null) {
            server = EmbeddedS3.builder().port(port).dataDir(dataDir).credentials(accessKey, secretKey).start();
        }
    }

    @Override
    public void close() {
        stop();
    }

    /** A port nothing listens on (a moment ago): where a stopped server was, or none ever was. */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
