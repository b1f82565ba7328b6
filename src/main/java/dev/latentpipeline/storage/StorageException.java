package dev.latentpipeline.storage;

import dev.latentpipeline.pipeline.ErrorCode;
import dev.latentpipeline.pipeline.PipelineException;

/**
 * An object storage call failed; says which operation, bucket and key, and the S3 error code if any. A request it
 * stops fails with {@code storage_error}.
 */
public class StorageException extends PipelineException {

    private final String bucket;
    private final String key;
    private final String errorCode;

    public StorageException(String operation, String bucket, String key, String errorCode, Throwable cause) {
        super(ErrorCode.STORAGE_ERROR, message(operation, bucket, key, errorCode, cause), cause);
        this.bucket = bucket;
        this.key = key;
        this.errorCode = errorCode;
    }

    /** The same failure, its message led by {@code note} (why the request now fails with it). */
    StorageException(String note, StorageException failure) {
        super(ErrorCode.STORAGE_ERROR, note + ": " + failure.getMessage(), failure.getCause());
        this.bucket = failure.bucket;
        this.key = failure.key;
        this.errorCode = failure.errorCode;
    }

    public String bucket() {
        return bucket;
    }

    /** The object key, or {@code null} for bucket-level operations. */
    public String key() {
        return key;
    }

    /** The S3 error code from the server (e.g. {@code SignatureDoesNotMatch}), or {@code null}. */
    public String errorCode() {
        return errorCode;
    }

    private static String message(String operation, String bucket, String key, String errorCode, Throwable cause) {
        StringBuilder sb = new StringBuilder("S3 ").append(operation).append(" failed for bucket '").append(bucket)
                .append('\'');
        if (key != null) {
            sb.append(", key '").append(key).append('\'');
        }
        sb.append(": ");
        if (errorCode != null) {
            sb.append(errorCode).append(" - ");
        }
        sb.append(cause.getClass().getSimpleName());
        if (cause.getMessage() != null) {
            sb.append(": ").append(cause.getMessage());
        }
        return sb.toString();
    }
}
