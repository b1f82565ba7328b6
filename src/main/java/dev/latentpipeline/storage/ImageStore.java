package dev.latentpipeline.storage;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.StatObjectArgs;
import io.minio.errors.ErrorResponseException;
import io.minio.http.HttpUtils;
import io.minio.http.Method;

/**
 * Object storage for generated images (and anything else binary) through the MinIO Java SDK, so it works
 * against MinIO, the embedded S3Proxy or any other S3-compatible server. Thread-safe: one shared client.
 */
public final class ImageStore {

    public static final String DEFAULT_REGION = "us-east-1";

    /** S3 caps presigned URLs at 7 days. */
    private static final Duration MAX_PRESIGN_TTL = Duration.ofDays(7);

    private static final Set<String> ALREADY_EXISTS = Set.of("BucketAlreadyOwnedByYou", "BucketAlreadyExists");
    private static final Set<String> NOT_FOUND = Set.of("NoSuchKey", "NoSuchObject");

    /**
     * Shorter than the MinIO SDK's defaults (5 minutes each), so an unreachable server (packets dropped, a server that
     * accepts and never answers) fails a call well inside sd.s3.outage-grace and counts as an outage: a connection
     * takes milliseconds, and 60 s without a byte is no healthy transfer.
     */
    private static final long CONNECT_TIMEOUT_MS = Duration.ofSeconds(10).toMillis();
    private static final long IO_TIMEOUT_MS = Duration.ofSeconds(60).toMillis();

    /** Told how each call that reaches for the server went: {@link StorageOutage} owns what that means. */
    public interface Observer {
        Observer NONE = new Observer() {
            @Override
            public void answered() {
            }

            @Override
            public void failed(StorageException e) {
            }
        };

        /** The call succeeded: the server answered. */
        void answered();

        /** The call failed (the server refused it, or could not be reached). */
        void failed(StorageException e);
    }

    private final MinioClient client;
    private final String bucket;
    private final Observer observer;

    public ImageStore(String endpoint, String accessKey, String secretKey, String bucket) {
        this(endpoint, accessKey, secretKey, DEFAULT_REGION, bucket);
    }

    public ImageStore(String endpoint, String accessKey, String secretKey, String region, String bucket) {
        this(endpoint, accessKey, secretKey, region, bucket, Observer.NONE);
    }

    /** @param observer told the outcome of every call that reaches for the server ({@link StorageOutage}) */
    public ImageStore(String endpoint, String accessKey, String secretKey, String region, String bucket,
            Observer observer) {
        this.observer = Objects.requireNonNull(observer, "observer");
        this.bucket = Objects.requireNonNull(bucket, "bucket");
        this.client = MinioClient.builder()
                .endpoint(Objects.requireNonNull(endpoint, "endpoint"))
                .httpClient(HttpUtils.newDefaultHttpClient(CONNECT_TIMEOUT_MS, IO_TIMEOUT_MS, IO_TIMEOUT_MS)
                        .newBuilder().socketFactory(new NoDelaySocketFactory()).build())
                .credentials(accessKey, secretKey)
                // A fixed region spares a GetBucketLocation round trip before each first call per bucket.
                .region(region == null || region.isBlank() ? DEFAULT_REGION : region)
                .build();
    }

    public String bucket() {
        return bucket;
    }

    /** Creates the bucket if missing; another instance creating it at the same moment is fine. */
    public void ensureBucket() {
        call("ensureBucket", null, () -> {
            if (client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
                return null;
            }
            try {
                client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
            } catch (ErrorResponseException e) {
                if (!ALREADY_EXISTS.contains(e.errorResponse().code())) {
                    throw e;
                }
            }
            return null;
        });
    }

    /** Whether the bucket exists (a cheap round trip: the storage readiness check). */
    public boolean bucketExists() {
        return call("bucketExists", null, () -> client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build()));
    }

    public void put(String key, byte[] bytes, String contentType, Map<String, String> userMetadata) {
        call("put", key, () -> {
            PutObjectArgs.Builder args = PutObjectArgs.builder()
                    .bucket(bucket)
                    .object(key)
                    .stream(new ByteArrayInputStream(bytes), bytes.length, -1);
            if (contentType != null) {
                args.contentType(contentType);
            }
            if (userMetadata != null && !userMetadata.isEmpty()) {
                args.userMetadata(userMetadata);
            }
            return client.putObject(args.build());
        });
    }

    public byte[] get(String key) {
        return call("get", key, () -> {
            try (InputStream in = client.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build())) {
                return in.readAllBytes();
            }
        });
    }

    /**
     * The object's bytes, reading at most {@code maxBytes}: for objects named by users (init images, latents).
     *
     * @throws IllegalArgumentException when the object is larger
     */
    public byte[] get(String key, int maxBytes) {
        byte[] bytes = call("get", key, () -> {
            try (InputStream in = client.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build())) {
                return in.readNBytes(maxBytes + 1);
            }
        });
        if (bytes.length > maxBytes) {
            throw new IllegalArgumentException("object '" + key + "' is larger than " + maxBytes + " bytes");
        }
        return bytes;
    }

    /** Whether a failed call failed because the object does not exist. */
    public static boolean isNotFound(StorageException e) {
        return e.errorCode() != null && NOT_FOUND.contains(e.errorCode());
    }

    public boolean exists(String key) {
        return call("exists", key, () -> {
            try {
                client.statObject(StatObjectArgs.builder().bucket(bucket).object(key).build());
                return true;
            } catch (ErrorResponseException e) {
                if (NOT_FOUND.contains(e.errorResponse().code())) {
                    return false;
                }
                throw e;
            }
        });
    }

    /** A URL anyone can GET the object with until {@code ttl} passes (1 s to 7 days). */
    public String presignedGetUrl(String key, Duration ttl) {
        if (ttl.compareTo(Duration.ofSeconds(1)) < 0 || ttl.compareTo(MAX_PRESIGN_TTL) > 0) {
            throw new IllegalArgumentException("Presigned URL ttl must be between 1 s and 7 days, was " + ttl);
        }
        return local("presignedGetUrl", key, () -> client.getPresignedObjectUrl(GetPresignedObjectUrlArgs.builder()
                .method(Method.GET)
                .bucket(bucket)
                .object(key)
                .expiry((int) ttl.toSeconds())
                .build()));
    }

    @FunctionalInterface
    private interface SdkCall<T> {
        T call() throws Exception;
    }

    /** A call to the server: its outcome is reported to the observer. */
    private <T> T call(String operation, String key, SdkCall<T> sdkCall) {
        T result;
        try {
            result = local(operation, key, sdkCall);
        } catch (StorageException e) {
            observer.failed(e);
            throw e;
        }
        observer.answered();
        return result;
    }

    /** A call that may not reach the server (presigning is computed here): nothing to report. */
    private <T> T local(String operation, String key, SdkCall<T> sdkCall) {
        try {
            return sdkCall.call();
        } catch (ErrorResponseException e) {
            throw new StorageException(operation, bucket, key, e.errorResponse().code(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StorageException(operation, bucket, key, null, e);
        } catch (Exception e) {
            // The SDK throws eight checked exception types plus IllegalArgumentException for bad names.
            throw new StorageException(operation, bucket, key, null, e);
        }
    }
}
