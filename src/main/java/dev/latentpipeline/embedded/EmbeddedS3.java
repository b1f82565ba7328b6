package dev.latentpipeline.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import org.jboss.logging.Logger;

/**
 * A real S3 API server inside this JVM: S3Proxy in front of a blob store, either a folder (buckets are
 * sub-folders, objects are files written under a temporary name and renamed when complete, kept across
 * restarts) or an in-memory store. Requests must be signed (AWS V4 or V2) with the configured access and
 * secret key.
 * <p>
 * What current AWS SDKs send by default is checked while the body is written: flexible checksums (CRC32, CRC32C,
 * CRC64NVME, SHA1, SHA256) in a header by S3Proxy itself, in the trailer of an {@code aws-chunked} body by
 * {@link TrailerChecksumFilter} (S3Proxy 4.1 stops reading before the trailer). A mismatch is answered with an S3
 * error ({@code BadDigest}) and leaves no object behind.
 */
public final class EmbeddedS3 implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(EmbeddedS3.class);

    private final S3Proxy proxy;
    private final BlobStore blobStore;
    private final String endpoint;
    private final Duration startupTime;

    private EmbeddedS3(S3Proxy proxy, BlobStore blobStore, String endpoint, Duration startupTime) {
        this.proxy = proxy;
        this.blobStore = blobStore;
        this.endpoint = endpoint;
        this.startupTime = startupTime;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Base URL for S3 clients, e.g. {@code http://127.0.0.1:9000}. */
    public String endpoint() {
        return endpoint;
    }

    public int port() {
        return proxy.getPort();
    }

    public Duration startupTime() {
        return startupTime;
    }

    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (Exception e) {
            LOG.warn("Embedded S3 did not stop cleanly", e);
        } finally {
            blobStore.close();
        }
    }

    public static final class Builder {
        private String host = "127.0.0.1";
        private int port;
        private Path dataDir;
        private String accessKey = "latentpipeline";
        private String secretKey = "latentpipeline-secret";
        private boolean quietLogs = true;

        private Builder() {
        }

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        /** HTTP port; 0 picks a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** Folder holding the buckets; {@code null} keeps everything in memory. */
        public Builder dataDir(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        public Builder credentials(String accessKey, String secretKey) {
            this.accessKey = accessKey;
            this.secretKey = secretKey;
            return this;
        }

        public Builder quietLogs(boolean quietLogs) {
            this.quietLogs = quietLogs;
            return this;
        }

        public EmbeddedS3 start() {
            if (quietLogs) {
                BrokerLogLevels.quietS3();
            }
            long t0 = System.nanoTime();
            BlobStore blobStore = blobStore();
            S3Proxy proxy = S3Proxy.builder()
                    .blobStore(blobStore)
                    .endpoint(URI.create("http://" + host + ":" + port))
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                    .build();
            S3ProxyFilters.install(proxy, new TrailerChecksumFilter());
            try {
                proxy.start(); // Jetty's start is synchronous: serving when it returns
            } catch (Exception e) {
                stopQuietly(proxy);
                blobStore.close();
                throw new IllegalStateException("Embedded S3 failed to start on " + host + ":" + port, e);
            }
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            EmbeddedS3 s3 = new EmbeddedS3(proxy, blobStore, "http://" + host + ":" + proxy.getPort(), took);
            LOG.infof("Embedded S3 started in %d ms at %s (%s)", took.toMillis(), s3.endpoint(),
                    dataDir == null ? "in memory" : "folder " + dataDir.toAbsolutePath());
            return s3;
        }

        private BlobStore blobStore() {
            return dataDir == null ? new TransientNio2BlobStore()
                    : new FilesystemNio2BlobStore(createDir(dataDir).toAbsolutePath().toString());
        }
    }

    private static void stopQuietly(S3Proxy proxy) {
        try {
            proxy.stop();
        } catch (Exception ignored) {
            // already failing; the start error is the one worth reporting
        }
    }

    private static Path createDir(Path dir) {
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create S3 data dir " + dir, e);
        }
    }
}
