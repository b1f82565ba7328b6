package dev.latentpipeline.testing;

import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * The AWS SDK for Java v2's S3 client as a user gets it: default checksum, chunked-encoding and signing settings.
 * Only what a non-AWS endpoint needs is set: the endpoint, a region, the keys, and path-style addressing
 * ({@code bucket.127.0.0.1} does not resolve).
 */
public final class AwsSdkS3 {
    private AwsSdkS3() {
    }

    public static S3Client client(String endpoint, String accessKey, String secretKey) {
        return builder(endpoint, accessKey, secretKey).build();
    }

    public static S3ClientBuilder builder(String endpoint, String accessKey, String secretKey) {
        return S3Client.builder()
                .endpointOverride(URI.create(endpoint))
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                .forcePathStyle(true);
    }

    /** The same client, recording each request as signed and sent; {@code http} replaces the default transport. */
    public static S3Client recording(String endpoint, String accessKey, String secretKey, SentRequests sent,
                                     SdkHttpClient http) {
        S3ClientBuilder b = builder(endpoint, accessKey, secretKey)
                .overrideConfiguration(c -> c.addExecutionInterceptor(sent));
        if (http != null) {
            b.httpClient(http);
        }
        return b.build();
    }

    /** Requests exactly as they went on the wire (after checksums, chunked encoding and signing were applied). */
    public static final class SentRequests implements ExecutionInterceptor {
        private final List<SdkHttpRequest> requests = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
            requests.add(context.httpRequest());
        }

        public SdkHttpRequest last() {
            synchronized (requests) {
                return requests.get(requests.size() - 1);
            }
        }

        public void clear() {
            requests.clear();
        }
    }
}
