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
        Figures baseline = null;
        if (options.baseline()) {
            for (int i = 0; i < options.warmup(); i++) {
                inProcess.generate(normalize(parser, request.apply(i)), latents, options.timeout());
            }
            List<Sample> samples = new ArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < options.requests(); i++) {
                samples.add(inProcess.generate(normalize(parser, request.apply(i)), latents, options.timeout())
                        .sample());
            }
            baseline = new Figures("in-process baseline", 1, samples, System.nanoTime() - start, options.requests());
            report.run(baseline, null, 0);
        }

        int failures = 0;
        try (PipelineLoad load = new PipelineLoad(json, config.topics().requests(), config.topics().events(),
                producer(), eventsConsumer())) {
            load.run(request, options.warmup(), 1, options.timeout());
            for (boolean previews : options.previews()) {
                unet.setPreviewEvery(previews ? config.previews().every() : 0);
                for (boolean batching : options.batching()) {
                    denoise.setMaxBatch(batching ? configuredBatch : 1);
                    for (int concurrency : options.concurrency()) {
                        PipelineLoad.Run run = load.run(request, options.requests(), concurrency,
                                options.timeout());
                        String label = "pipeline, " + concurrency + " in flight, batching "
                                + (batching ? "on (max " + configuredBatch + ")" : "off") + ", previews "
                                + (previews && config.previews().every() > 0 ? "every " + config.previews().every()
                                        + " steps" : "off");
                        Figures figures = new Figures(label, concurrency, run.samples(), run.wallNanos(),
                                options.requests());
                        report.run(figures, concurrency == 1 ? baseline : null, floorUs);
                        failures += options.requests() - figures.completed();
                    }
                }
            }
        } finally {
            denoise.setMaxBatch(configuredBatch);
            unet.setPreviewEvery(config.previews().every());
        }
        return failures == 0 ? 0 : 1;
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
