package dev.latentpipeline.storage;

import dev.latentpipeline.pipeline.PipelineConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The image store from sd.s3.*: the configured endpoint, or the embedded S3 server's; and the process's one view of
 * whether it is reachable ({@link StorageOutage}, sd.s3.outage-grace), which every call of the store reports to.
 */
@ApplicationScoped
public class ImageStoreProducer {

    @Produces
    @Singleton
    StorageOutage storageOutage(PipelineConfig config) {
        return new StorageOutage(config.s3().outageGrace());
    }

    @Produces
    @Singleton
    ImageStore imageStore(PipelineConfig config, StorageOutage outage) {
        PipelineConfig.S3 s3 = config.s3();
        String endpoint = s3.endpoint().filter(e -> !e.isBlank())
                .orElse("http://127.0.0.1:" + config.embedded().s3Port());
        return new ImageStore(endpoint, s3.accessKey(), s3.secretKey(), s3.region(), s3.bucket(), outage);
    }
}
