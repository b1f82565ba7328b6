package dev.latentpipeline.storage;

import dev.latentpipeline.pipeline.PipelineConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** The image store from sd.s3.*: the configured endpoint, or the embedded S3 server's. */
@ApplicationScoped
public class ImageStoreProducer {

    @Produces
    @Singleton
    ImageStore imageStore(PipelineConfig config) {
        PipelineConfig.S3 s3 = config.s3();
        String endpoint = s3.endpoint().filter(e -> !e.isBlank())
                .orElse("http://127.0.0.1:" + config.embedded().s3Port());
        return new ImageStore(endpoint, s3.accessKey(), s3.secretKey(), s3.region(), s3.bucket());
    }
}
