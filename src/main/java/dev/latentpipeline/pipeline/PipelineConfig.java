package dev.latentpipeline.pipeline;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.util.Map;
import java.util.Optional;

/** Every sd.* setting, typed. Environment variables follow the usual mapping (sd.model.dir = SD_MODEL_DIR). */
@ConfigMapping(prefix = "sd")
public interface PipelineConfig {

    /** Roles this process runs: all, or a comma-separated list of text-encoder, unet, vae. */
    @WithDefault("all")
    String roles();

    /** Stable id of this worker in events; default host:pid. */
    @WithName("worker-id")
    Optional<String> workerId();

    Model model();

    Onnx onnx();

    S3 s3();

    Limits limits();

    Events events();

    Previews previews();

    Priorities priority();

    Topics topics();

    Embedded embedded();

    Unet unet();

    /**
     * Kafka client settings per scope, {@code sd.kafka.<scope>.<kafka property>}: a stage's consumer
     * (text-encoder, unet, vae) or the process's producer (producer); for example
     * {@code sd.kafka.unet.session.timeout.ms=6000}. They override the pipeline's own client defaults.
     */
    Map<String, Map<String, String>> kafka();

    interface Model {
        /** An ONNX Stable Diffusion export; absent: the built-in colour model, generated at start-up. */
        Optional<String> dir();

        /** Where the built-in model is written. */
        @WithName("builtin-dir")
        @WithDefault("${java.io.tmpdir}/latent-pipeline/builtin-model")
        String builtinDir();
    }

    interface Onnx {
        /** auto (CUDA when it loads, else CPU), cuda, or cpu. */
        @WithDefault("auto")
        String provider();

        @WithName("cuda-device")
        @WithDefault("0")
        int cudaDevice();

        /** ONNX Runtime intra-op threads; 0 lets ONNX Runtime decide. */
        @WithName("intra-op-threads")
        @WithDefault("0")
        int intraOpThreads();

        /**
         * Whether ONNX Runtime's idle intra-op threads spin waiting for the next run. Off: every stage in a process,
         * the broker and the storage client share the cores, and a spinning pool takes one from them.
         */
        @WithName("spin-wait")
        @WithDefault("false")
        boolean spinWait();
    }

    interface S3 {
        /** S3 endpoint, e.g. http://minio:9000; absent: the embedded S3 server on localhost:9000. */
        Optional<String> endpoint();

        @WithName("access-key")
        @WithDefault("latent")
        String accessKey();

        @WithName("secret-key")
        @WithDefault("latent-pipeline-secret")
        String secretKey();

        @WithDefault("us-east-1")
        String region();

        @WithDefault("sd-images")
        String bucket();

        /**
         * How long a stage that cannot reach object storage keeps its message in hand and tries again (taking no new
         * work) before the request fails with storage_error, counted from the outage's start
         * (docs/storage-outages.md). 3 minutes: a MinIO restart or a rolling upgrade of its nodes takes seconds to a
         * minute, a rescheduled pod a minute or two; longer is an incident, and users are better off with a clear
         * failure.
         */
        @WithName("outage-grace")
        @WithDefault("3m")
        java.time.Duration outageGrace();
    }

    /** Deployment bounds, checked after the request schema's absolute bounds. */
    interface Limits {
        @WithName("max-width")
        @WithDefault("1024")
        int maxWidth();

        @WithName("max-height")
        @WithDefault("1024")
        int maxHeight();

        @WithName("max-steps")
        @WithDefault("150")
        int maxSteps();

        @WithName("max-images")
        @WithDefault("8")
        int maxImages();
    }

    interface Events {
        /** Publish a denoising progress event every this many steps (the last step always reports). */
        @WithName("progress-every")
        @WithDefault("1")
        int progressEvery();

        /**
         * And at most one per job in this much time (the first step of a job and its last always report): on a
         * fast model every step's event cost more than the step (the event, the broker append and every reader of
         * sd.events competing with the model for the CPU). 0 reports every progress-every step.
         */
        @WithName("progress-interval")
        @WithDefault("100ms")
        java.time.Duration progressInterval();
    }

    /** Request priorities (README, "Priorities"). */
    interface Priorities {
        /**
         * While lower-priority work waits, every this-many-th message a stage takes is the oldest lower-priority one:
         * under a steady stream of high-priority work, low priority still gets one turn in 8 (at least 2).
         */
        @WithDefault("8")
        int share();
    }

    /** Live previews of running jobs (README, "Previews"). */
    interface Previews {
        /**
         * A preview of each image every this many steps (0: none). 4: a 20-step job shows 5 previews; the
         * latent-to-RGB preview costs a fraction of a millisecond, a TAESD decode about as much as one step of a
         * small UNet, on a thread beside the denoising loop.
         */
        @WithDefault("4")
        int every();

        /** The longest side of a preview image, in pixels. */
        @WithName("max-size")
        @WithDefault("256")
        int maxSize();

        /**
         * A TAESD decoder (ONNX, taking the UNet's latents) for previews closer to the final image; default: the
         * export's taesd_decoder/model.onnx when it has one, else the latent-to-RGB approximation.
         */
        Optional<String> taesd();
    }

    /**
     * Topic names and whether the app creates missing ones (pipeline/Topics.wanted lists them with their
     * settings). A stage's partition count caps how many of its workers share the load.
     */
    interface Topics {
        @WithDefault("true")
        boolean create();

        @WithDefault("4")
        int partitions();

        /** retention.ms of sd.requests and sd.events: how long a stopped stage or a late reader can catch up. */
        @WithName("retention-ms")
        @WithDefault("604800000")
        long retentionMs();

        /** retention.ms of the tensor topics (sd.embeddings, sd.latents): large, and useless once consumed. */
        @WithName("tensor-retention-ms")
        @WithDefault("86400000")
        long tensorRetentionMs();

        @WithDefault("sd.requests")
        String requests();

        @WithDefault("sd.embeddings")
        String embeddings();

        @WithDefault("sd.latents")
        String latents();

        @WithDefault("sd.events")
        String events();

        /**
         * UNet checkpoints, compacted, keyed by request id; input partition p of priority i writes to partition
         * i * P + p (messaging/SideCheckpoints): a worker given an input partition reads its checkpoint partition
         * before running any of its jobs.
         */
        @WithDefault("sd.checkpoints")
        String checkpoints();

        /** Previews of running jobs, compacted (the latest per image), kept an hour. */
        @WithDefault("sd.previews")
        String previews();

        /** Cancel commands, compacted, keyed by request id; every stage worker reads it from the beginning. */
        @WithDefault("sd.control")
        String control();

        /** Webhook outcomes (delivered / dead), compacted, keyed by request id: what a restarted gateway skips. */
        @WithName("webhook-deliveries")
        @WithDefault("sd.webhook-deliveries")
        String webhookDeliveries();

        /** Webhooks that were never acknowledged within the retry window. */
        @WithName("webhook-dead-letters")
        @WithDefault("sd.webhooks.dead")
        String webhookDeadLetters();
    }

    /** The UNet stage: batching, crash safety and shutdown (README, "Running the stages as separate processes"). */
    interface Unet {
        /**
         * Jobs one UNet worker holds and batches step by step (1 turns batching off). 8: on the shared tiny export a
         * guided job-step costs about half as much in a call of 8 jobs as alone, and little less beyond; ONNX
         * Runtime's own SD-Turbo figures gain 1.4x at batch 4 on a GPU. Memory grows with it: a call carries up to
         * 2 x max-batch rows (a single job with more images runs alone).
         */
        @WithName("max-batch")
        @WithDefault("8")
        int maxBatch();

        /**
         * Write a running job's state to sd.checkpoints every this many steps, on the side, so a worker that dies
         * loses at most that many steps of it; "never" (or 0) writes none (a crash then restarts the job).
         */
        @WithName("checkpoint-every")
        @WithDefault("10")
        String checkpointEvery();

        /**
         * On SIGTERM, or when the group moves a partition away, how long any stage waits for its messages in hand
         * (a UNet job: to reach its next step and checkpoint) before it lets go without committing them.
         */
        @WithName("shutdown-grace")
        @WithDefault("30s")
        java.time.Duration shutdownGrace();
    }

    interface Embedded {
        /**
         * auto: start an embedded Kafka broker and S3 server when no endpoint is configured for them;
         * never: start nothing; always: start both.
         */
        @WithDefault("auto")
        String mode();

        @WithName("s3-port")
        @WithDefault("9000")
        int s3Port();

        /** The embedded broker's port; clients find it there when kafka.bootstrap.servers is unset (9092). */
        @WithName("kafka-port")
        @WithDefault("9092")
        int kafkaPort();

        /** Where the embedded broker and object store keep their data across restarts. */
        @WithName("data-dir")
        @WithDefault("data")
        String dataDir();
    }
}
