package dev.latentpipeline.api.preview;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.Role;
import dev.latentpipeline.wire.Preview;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The latest preview of each running job's images, read from sd.previews (compacted, short retention) by every
 * gateway replica, and handed to whoever follows a job (its server-sent events). Bounded: the previews of the
 * jobs seen last, not of every job.
 */
@ApplicationScoped
public class PreviewStore {
    private static final Logger LOG = Logger.getLogger(PreviewStore.class);
    static final int MAX_JOBS = 2000;

    @Inject
    PipelineConfig config;

    @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092")
    String bootstrapServers;

    /** Job id to its images' latest previews, by image index; least recently updated jobs are forgotten first. */
    private final Map<String, Map<Integer, Preview>> latest = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Map<Integer, Preview>> eldest) {
            return size() > MAX_JOBS;
        }
    };
    private final Map<String, List<Consumer<Preview>>> watchers = new ConcurrentHashMap<>();
    /** How long a stream's end waits for previews to catch up at most. */
    static final Duration CATCH_UP_LIMIT = Duration.ofSeconds(2);
    private volatile KafkaConsumer<String, byte[]> consumer;
    /** Waiters for the next poll that starts after they asked and leaves nothing unread. */
    private final List<Waiter> waiters = new CopyOnWriteArrayList<>();

    private record Waiter(long since, CompletableFuture<Void> done) {
    }
    private volatile boolean closed;
    private Thread thread;

    void start(@Observes @Priority(650) StartupEvent event) {
        if (!Role.parse(config.roles()).contains(Role.GATEWAY)) {
            return;
        }
        thread = new Thread(this::run, "gateway-previews");
        thread.setDaemon(true);
        thread.start();
    }

    void stop(@Observes ShutdownEvent event) {
        closed = true;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    private void run() {
        Map<String, Object> props = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false", ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100);
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer = c;
            List<TopicPartition> partitions;
            while ((partitions = partitions(c)).isEmpty() && !closed) {
                LOG.infof("Waiting for topic %s to exist", config.topics().previews());
            }
            c.assign(partitions);
            c.seekToBeginning(partitions);
            while (!closed) {
                long started = System.nanoTime();
                for (ConsumerRecord<String, byte[]> record : c.poll(Duration.ofMillis(100))) {
                    if (record.value() != null) {
                        accept(record.value());
                    }
                }
                if (!waiters.isEmpty() && partitions.stream().allMatch(p -> c.currentLag(p).orElse(1) == 0)) {
                    for (Waiter w : waiters) {
                        if (w.since() <= started) {
                            w.done().complete(null);
                            waiters.remove(w);
                        }
                    }
                }
            }
        } catch (WakeupException e) {
            // stopping
        } catch (RuntimeException e) {
            LOG.errorf(e, "Stopped reading %s", config.topics().previews());
        }
    }

    private List<TopicPartition> partitions(KafkaConsumer<String, byte[]> c) {
        var infos = c.partitionsFor(config.topics().previews(), Duration.ofSeconds(30));
        return infos == null ? List.of()
                : infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
    }

    void accept(byte[] value) {
        Preview preview;
        try {
            preview = Preview.parseFrom(value);
        } catch (InvalidProtocolBufferException e) {
            LOG.debugf("Skipped an unreadable preview: %s", e.getMessage());
            return;
        }
        synchronized (latest) {
            Map<Integer, Preview> images = latest.computeIfAbsent(preview.getRequestId(), id -> new LinkedHashMap<>());
            Preview before = images.get(preview.getImageIndex());
            if (before != null && before.getStep() > preview.getStep()) {
                return; // an older one (a job resumed elsewhere): previews only move forward
            }
            images.put(preview.getImageIndex(), preview);
        }
        watchers.getOrDefault(preview.getRequestId(), List.of()).forEach(w -> w.accept(preview));
    }

    /**
     * Completes once every preview published before now has been read (at most {@link #CATCH_UP_LIMIT} from now):
     * a job's stream ends after its terminal event without losing the previews that were on their way.
     */
    public CompletableFuture<Void> caughtUp() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (thread == null) {
            done.complete(null);
            return done;
        }
        waiters.add(new Waiter(System.nanoTime(), done));
        return done.completeOnTimeout(null, CATCH_UP_LIMIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                .whenComplete((ok, e) -> waiters.removeIf(w -> w.done() == done));
    }

    /** The latest preview of image {@code index} of the job, if one was seen. */
    public Optional<Preview> latest(String requestId, int index) {
        synchronized (latest) {
            Map<Integer, Preview> images = latest.get(requestId);
            return Optional.ofNullable(images == null ? null : images.get(index));
        }
    }

    public void watch(String requestId, Consumer<Preview> watcher) {
        watchers.computeIfAbsent(requestId, id -> new CopyOnWriteArrayList<>()).add(watcher);
    }

    public void unwatch(String requestId, Consumer<Preview> watcher) {
        watchers.computeIfPresent(requestId, (id, list) -> {
            list.remove(watcher);
            return list.isEmpty() ? null : list;
        });
    }
}
