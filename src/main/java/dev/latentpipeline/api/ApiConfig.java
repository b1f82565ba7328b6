package dev.latentpipeline.api;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** sd.api.*: the gateway role's HTTP settings. */
@ConfigMapping(prefix = "sd.api")
public interface ApiConfig {

    /** Bearer API keys (SD_API_KEYS, comma-separated); none: the API is open, and the start-up log says so. */
    Optional<List<String>> keys();

    /**
     * API keys that may submit {@code "priority": "high"} (normal and low are open to every caller); {@code *}: any
     * caller, the open API included. None: nobody over HTTP (Kafka producers on sd.requests.high are trusted).
     */
    @WithName("high-priority-keys")
    Optional<List<String>> highPriorityKeys();

    /** Jobs not yet finished above which a submission gets 429 with Retry-After instead of queueing. */
    @WithName("max-in-flight")
    @WithDefault("64")
    int maxInFlight();

    /** Retry-After sent with 429 and 503. */
    @WithName("retry-after")
    @WithDefault("5s")
    Duration retryAfter();

    /** How long the presigned image URLs in status answers stay valid. */
    @WithName("presign-ttl")
    @WithDefault("1h")
    Duration presignTtl();

    /** Largest request body accepted; a request is a few hundred bytes. */
    @WithName("max-body-bytes")
    @WithDefault("65536")
    int maxBodyBytes();

    /**
     * Largest upload (POST /v1/uploads: an init image or a .npy of latents). 8 MiB holds a 1024 x 1024 PNG of any
     * content and the latents of eight 1024 x 1024 images. Quarkus' own limit (quarkus.http.limits.max-body-size,
     * 10 MiB) answers larger bodies with a bare 413 before this API sees them.
     */
    @WithName("max-upload-bytes")
    @WithDefault("8388608")
    int maxUploadBytes();
}
