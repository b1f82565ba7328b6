package dev.latentpipeline.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.latentpipeline.denoise.DenoisingStage;
import dev.latentpipeline.denoise.PerImageNoise;
import dev.latentpipeline.messaging.KafkaClients;
import dev.latentpipeline.messaging.UnetWorker;
import dev.latentpipeline.model.ModelRepository;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.RequestLimits;
import dev.latentpipeline.pipeline.RequestParser;
import dev.latentpipeline.storage.ImageStore;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Npy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.IntFunction;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The benchmark command ({@code bench}, options in {@link BenchOptions}). In one run, on whatever model this
 * process serves, it prints: the broker's one-hop floor; the in-process baseline (the same stage code, no broker,
 * no storage); then the pipeline, request on sd.requests to terminal event on sd.events, at each concurrency and
 * with UNet batching on and/or off: throughput, p50/p95 latency, and where each request's time went. Speed claims
 * are ratios within this one run: the machine's noise cancels out.
 */
@ApplicationScoped
public class Benchmark {
    /** About a small PNG's size: what the storage probe puts and gets. */
    private static final int STORAGE_PROBE_BYTES = 16 * 1024;

    @Inject
    PipelineConfig config;
    @Inject
    KafkaClients clients;
    @Inject
    ObjectMapper json;
    @Inject
    InProcessPipeline inProcess;
    @Inject
    DenoisingStage denoise;
    @Inject
    ImageStore store;
    @Inject
    UnetWorker unet;
    @Inject
    ModelRepository models;

    /** {@code --model-dir}, read before the application starts. */
    public static String modelDirOption(String[] args) {
        return BenchOptions.modelDir(args);
    }

    public int run(String[] args) throws Exception {
        BenchOptions options = BenchOptions.parse(args, json);
        RequestParser parser = new RequestParser(RequestLimits.from(config.limits()), models.family());
        ObjectNode template = options.template().deepCopy();
        FloatTensor latents = null;
        if (options.latents()) {
            latents = uploadLatents(template);
        }
        IntFunction<ObjectNode> request = i -> template.deepCopy().put("seed", i);
        Report report = new Report(System.out);
        report.header(template, options);

        long[][] hops = measureHops();
        report.hops(hops);
        long[] storage = StorageProbe.measure(store, STORAGE_PROBE_BYTES, 30);
        report.storage(STORAGE_PROBE_BYTES, storage);
        // What a request cannot avoid: two small hops (the request, its completed event), two tensor hops
        // (embeddings, latents), one PNG upload, and with explicit latents one download.
        long floorUs = 2 * hops[0][1] + 2 * hops[1][1] + storage[0] + (options.latents() ? storage[1] : 0);

        int configuredBatch = denoise.maxBatch();
        IntFunction<GenerationRequest> direct = i -> normalize(parser, request.apply(i));
        Figures baseline = null;
        Ratios ratios = new Ratios();
        // The in-process runs share the UNet worker's engine: its feeder steps aside meanwhile.
        unet.pauseFeeding();
        try {
            if (options.baseline()) {
                for (int i = 0; i < options.warmup(); i++) {
                    inProcess.generate(direct.apply(i), latents, options.timeout());
                }
                List<Sample> samples = new ArrayList<>();
                CpuClock before = CpuClock.now();
                long start = System.nanoTime();
                for (int i = 0; i < options.requests(); i++) {
                    samples.add(inProcess.generate(direct.apply(i), latents, options.timeout()).sample());
                }
                baseline = new Figures("in-process baseline", 1, samples, System.nanoTime() - start,
                        options.requests(), CpuClock.now().since(before));
                report.run(baseline, null, 0);
                inProcessUnderLoad(options, direct, latents, configuredBatch, report, ratios);
            }
        } finally {
            denoise.setMaxBatch(configuredBatch);
            unet.resumeFeeding();
        }

        int failures = 0;
        try (PipelineLoad load = new PipelineLoad(json, config.topics().requests(), config.topics().events(),
                producer(), eventsConsumer())) {
            for (int round = 0; round < options.rounds(); round++) {
                for (boolean previews : options.previews()) {
                    unet.setPreviewEvery(previews ? config.previews().every() : 0);
                    for (boolean batching : options.batchingInRound(round)) {
                        denoise.setMaxBatch(batching ? configuredBatch : 1);
                        for (int concurrency : options.concurrency()) {
                            failures += pipelineRun(load, request, options, previews, batching, concurrency,
                                    configuredBatch, round, baseline, floorUs, report, ratios);
                        }
                    }
                }
            }
        } finally {
            denoise.setMaxBatch(configuredBatch);
            unet.setPreviewEvery(config.previews().every());
        }
        report.batchingRatios(ratios);
        return failures == 0 ? 0 : 1;
    }

    /** One measured pipeline run after its own warm-up; returns how many of its requests did not complete. */
    private int pipelineRun(PipelineLoad load, IntFunction<ObjectNode> request, BenchOptions options,
            boolean previews, boolean batching, int concurrency, int configuredBatch, int round, Figures baseline,
            long floorUs, Report report, Ratios ratios) throws Exception {
        // Each run warms up at its own concurrency: the JIT keeps compiling for a minute or more under load here,
        // and the run that came first would otherwise pay for it alone.
        load.run(request, options.warmup(), concurrency, options.timeout());
        CpuClock before = CpuClock.now();
        PipelineLoad.Run run = load.run(request, options.requests(), concurrency, options.timeout());
        CpuClock spent = CpuClock.now().since(before);
        String kind = "pipeline, previews " + (previews && config.previews().every() > 0
                ? "every " + config.previews().every() + " steps" : "off");
        String label = "pipeline, " + concurrency + " in flight, batching " + batchingLabel(batching, configuredBatch)
                + ", " + kind.substring("pipeline, ".length()) + (options.rounds() > 1 ? ", round " + (round + 1) : "");
        Figures figures = new Figures(label, concurrency, run.samples(), run.wallNanos(), options.requests(), spent);
        report.run(figures, concurrency == 1 ? baseline : null, floorUs);
        ratios.add(kind, concurrency, batching, figures.throughput());
        return options.requests() - figures.completed();
    }

    /**
     * The same work in this JVM with many in flight: the ceiling of what batching gives here, first for the UNet
     * alone, then for whole requests (no broker, no storage).
     */
    private void inProcessUnderLoad(BenchOptions options, IntFunction<GenerationRequest> direct, FloatTensor latents,
            int configuredBatch, Report report, Ratios ratios) throws Exception {
        for (int concurrency : options.concurrency()) {
            if (concurrency == 1) {
                continue;
            }
            for (boolean unetOnly : new boolean[] {true, false}) {
                String kind = unetOnly ? "UNet alone (in process)" : "in process";
                for (boolean batching : options.batching()) {
                    denoise.setMaxBatch(batching ? configuredBatch : 1);
                    inProcess.run(direct, latents, options.warmup(), concurrency, unetOnly, options.timeout());
                    CpuClock before = CpuClock.now();
                    InProcessPipeline.Load load = inProcess.run(direct, latents, options.requests(), concurrency,
                            unetOnly, options.timeout());
                    Figures figures = new Figures(kind + ", " + concurrency + " in flight, batching "
                            + batchingLabel(batching, configuredBatch), concurrency, load.samples(), load.wallNanos(),
                            options.requests(), CpuClock.now().since(before));
                    report.run(figures, null, 0);
                    ratios.add(kind, concurrency, batching, figures.throughput());
                }
            }
        }
    }

    private static String batchingLabel(boolean batching, int configuredBatch) {
        return batching ? "on (max " + configuredBatch + ")" : "off";
    }

    private GenerationRequest normalize(RequestParser parser, ObjectNode body) {
        body.put("id", "baseline-" + UUID.randomUUID());
        RequestParser.Outcome outcome = parser.parse(null, body.toString().getBytes(StandardCharsets.UTF_8));
        if (outcome instanceof RequestParser.Rejected rejected) {
            throw new IllegalArgumentException("the benchmark's request is invalid: " + rejected.error().getMessage());
        }
        return ((RequestParser.Accepted) outcome).request();
    }

    /** Unit-normal initial latents for the request's size, from seed 0, uploaded once; the request names them. */
    private FloatTensor uploadLatents(ObjectNode template) {
        long[] shape = {1, 4, template.get("height").asInt() / 8, template.get("width").asInt() / 8};
        FloatTensor noise = new PerImageNoise(new long[] {0}).initialLatents(shape);
        String key = "bench/latents-" + shape[2] + "x" + shape[3] + ".npy";
        store.ensureBucket();
        store.put(key, Npy.write(noise), "application/octet-stream", Map.of());
        template.put("latents", key);
        return noise;
    }

    private long[][] measureHops() throws Exception {
        int[] sizes = {1024, 64 * 1024, 512 * 1024};
        Map<String, Object> producerConfig = clients.producer("bench-hops");
        Map<String, Object> consumerConfig = clients.reader("bench-hops");
        consumerConfig.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 500);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerConfig, new StringSerializer(),
                new ByteArraySerializer());
                KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(consumerConfig,
                        new StringDeserializer(), new ByteArrayDeserializer())) {
            long[] medians = HopProbe.measure(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    clients.bootstrapServers()), producer, consumer, sizes, 50);
            long[][] out = new long[sizes.length][];
            for (int i = 0; i < sizes.length; i++) {
                out[i] = new long[] {sizes[i], medians[i]};
            }
            return out;
        }
    }

    private KafkaProducer<String, String> producer() {
        Map<String, Object> settings = clients.producer("bench-requests");
        settings.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1024 * 1024);
        return new KafkaProducer<>(settings, new StringSerializer(), new StringSerializer());
    }

    private KafkaConsumer<String, String> eventsConsumer() {
        Map<String, Object> settings = clients.reader("bench-events");
        settings.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 500);
        return new KafkaConsumer<>(settings, new StringDeserializer(), new StringDeserializer());
    }
}
