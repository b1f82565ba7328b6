package dev.latentpipeline.embedded;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.checksums.DefaultChecksumAlgorithm;
import software.amazon.awssdk.checksums.spi.ChecksumAlgorithm;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;

/**
 * A PutObject as the AWS SDKs send it over HTTPS ({@code STREAMING-UNSIGNED-PAYLOAD-TRAILER}: aws-chunked body,
 * checksum in the trailer), framed and signed by the SDK's own SigV4 signer, optionally with one body byte flipped
 * after the trailer checksum was computed.
 */
final class UnsignedTrailerUpload {
    record Answer(int status, String body) {
    }

    private UnsignedTrailerUpload() {
    }

    static Answer put(String endpoint, String bucket, String key, byte[] body,
                      software.amazon.awssdk.services.s3.model.ChecksumAlgorithm algorithm, String accessKey,
                      String secretKey, boolean flipOneByte) {
        // Signed as for HTTPS, where the signer leaves the payload unsigned; the signature covers the Host header
        // and the path, not the scheme, so the same request is then sent over the endpoint's plain HTTP.
        URI target = URI.create(endpoint + "/" + bucket + "/" + key);
        SdkHttpRequest request = SdkHttpRequest.builder()
                .method(SdkHttpMethod.PUT)
                .uri(URI.create(target.toString().replaceFirst("^http:", "https:")))
                .putHeader("Host", target.getHost() + ":" + target.getPort())
                .putHeader("Content-Length", Integer.toString(body.length))
                .build();
        SignedRequest signed = AwsV4HttpSigner.create().sign(r -> r
                .identity(AwsBasicCredentials.create(accessKey, secretKey))
                .request(request)
                .payload(() -> new ByteArrayInputStream(body))
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
                .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1")
                .putProperty(AwsV4HttpSigner.PAYLOAD_SIGNING_ENABLED, false)
                .putProperty(AwsV4HttpSigner.CHUNK_ENCODING_ENABLED, true)
                .putProperty(AwsV4HttpSigner.CHECKSUM_ALGORITHM, sdkAlgorithm(algorithm)));
        byte[] framed = readAll(signed.payload().orElseThrow().newStream());
        if (flipOneByte) {
            // Past the first chunk's size line, inside its data.
            int dataStart = new String(framed, StandardCharsets.ISO_8859_1).indexOf("\r\n") + 2;
            framed[dataStart + 1000] ^= 0x01;
        }
        byte[] sent = framed;
        try (SdkHttpClient http = Apache5HttpClient.create()) {
            HttpExecuteResponse response = http.prepareRequest(HttpExecuteRequest.builder()
                    .request(signed.request().toBuilder().protocol("http").port(target.getPort()).build())
                    .contentStreamProvider(() -> new ByteArrayInputStream(sent))
                    .build()).call();
            String text = response.responseBody().map(b -> new String(readAll(b), StandardCharsets.UTF_8)).orElse("");
            return new Answer(response.httpResponse().statusCode(), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ChecksumAlgorithm sdkAlgorithm(software.amazon.awssdk.services.s3.model.ChecksumAlgorithm a) {
        return switch (a) {
            case CRC32 -> DefaultChecksumAlgorithm.CRC32;
            case CRC32_C -> DefaultChecksumAlgorithm.CRC32C;
            case SHA1 -> DefaultChecksumAlgorithm.SHA1;
            case SHA256 -> DefaultChecksumAlgorithm.SHA256;
            default -> throw new IllegalArgumentException("no JDK implementation in the SDK for " + a);
        };
    }

    private static byte[] readAll(InputStream in) {
        try (in) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
