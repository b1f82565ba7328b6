package dev.latentpipeline.api.status;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latentpipeline.pipeline.GenerationEvent;
import dev.latentpipeline.pipeline.LogTail;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.Role;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Every job's status, materialized in memory by reading sd.events from its beginning and then following it. Each
 * gateway replica holds the whole state, so any replica answers, and a restart rebuilds it from the log.
 */
@ApplicationScoped
public class StatusStore {
    private static final Logger LOG = Logger.getLogger(StatusStore.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    /** Newest first, ties broken by id, so pages are stable across replicas. */
    static final Comparator<JobStatus> NEWEST_FIRST = Comparator.comparing(JobStatus::createdAt).reversed()
            .thenComparing(JobStatus::id);

    @Inject
    PipelineConfig config;

    @ConfigProperty(name = "kafka.bootstrap.servers", defaultValue = "localhost:9092")
    String bootstrapServers;

    private final Map<String, JobStatus> jobs = new ConcurrentHashMap<>();
    private final NavigableSet<JobStatus> byAge = new ConcurrentSkipListSet<>(NEWEST_FIRST);
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    /** The sd.events partition each job's events are on: which gateway replica delivers its webhook. */
    private final Map<String, Integer> eventPartitions = new ConcurrentHashMap<>();
    private final Map<String, List<Consumer<JobStatus>>> watchers = new ConcurrentHashMap<>();
    private final List<Consumer<JobStatus>> terminalListeners = new CopyOnWriteArrayList<>();
    private final List<BiConsumer<JobStatus, JobStatus>> changeListeners = new CopyOnWriteArrayList<>();
    private LogTail tail;

    void start(@Observes @Priority(600) StartupEvent event) {
        if (Role.parse(config.roles()).contains(Role.GATEWAY)) {
            tail = new LogTail(bootstrapServers, config.topics().events(), this::onRecord).start();
            LOG.infof("Gateway status: reading %s from the beginning", config.topics().events());
        }
    }

    void stop(@Observes ShutdownEvent event) {
        if (tail != null) {
            tail.close();
        }
    }

    /** False until the events that existed at start-up have all been read. */
    public boolean ready() {
        return tail != null && tail.caughtUp();
    }

    /** Waits up to {@code timeout} for {@link #ready}; false at once in a process without the gateway role. */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        return tail != null && tail.awaitCaughtUp(timeout);
    }

    private void onRecord(ConsumerRecord<String, String> record) {
        if (record.value() == null) {
            return;
        }
        try {
            GenerationEvent event = JSON.readValue(record.value(), GenerationEvent.class);
            if (event.requestId() != null) {
                eventPartitions.putIfAbsent(event.requestId(), record.partition());
            }
            apply(event);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Folds one event in; also called by the gateway for its own queued event, so it answers at once. */
    public synchronized void apply(GenerationEvent event) {
        if (event.requestId() == null || event.type() == null) {
            return;
        }
        JobStatus[] change = new JobStatus[2];
        jobs.compute(event.requestId(), (id, previous) -> {
            JobStatus next = JobStatus.fold(previous, event);
            change[0] = previous;
            change[1] = next;
            return next;
        });
        JobStatus previous = change[0];
        JobStatus next = change[1];
        if (next == null || next == previous) {
            return;
        }
        if (previous != null) {
            byAge.remove(previous);
        }
        byAge.add(next);
        if (next.terminal()) {
            inFlight.remove(next.id());
        } else {
            inFlight.add(next.id());
        }
        changeListeners.forEach(l -> l.accept(previous, next));
        watchers.getOrDefault(next.id(), List.of()).forEach(w -> w.accept(next));
        if (next.terminal()) {
            terminalListeners.forEach(l -> l.accept(next));
        }
    }

    public Optional<JobStatus> get(String id) {
        return Optional.ofNullable(jobs.get(id));
    }

    /** Jobs that have not reached a terminal state. */
    public int inFlightCount() {
        return inFlight.size();
    }

    /** The sd.events partition of the job's events; empty until one of them has been read back from the log. */
    public OptionalInt eventPartition(String id) {
        Integer partition = eventPartitions.get(id);
        return partition == null ? OptionalInt.empty() : OptionalInt.of(partition);
    }

    public boolean isInFlight(String id) {
        return inFlight.contains(id);
    }

    /** A snapshot of the jobs that have not reached a terminal state. */
    public List<JobStatus> inFlightJobs() {
        List<JobStatus> snapshot = new ArrayList<>(inFlight.size());
        for (String id : inFlight) {
            JobStatus job = jobs.get(id);
            if (job != null) {
                snapshot.add(job);
            }
        }
        return snapshot;
    }

    /** Up to {@code limit} jobs older than {@code after} (null: from the newest), optionally of one status. */
    public List<JobStatus> page(JobStatus after, int limit, String status) {
        List<JobStatus> page = new ArrayList<>();
        for (JobStatus job : after == null ? byAge : byAge.tailSet(after, false)) {
            if (status == null || status.equals(job.status())) {
                page.add(job);
                if (page.size() == limit) {
                    break;
                }
            }
        }
        return page;
    }

    /** Calls {@code watcher} with every new state of the job until {@link #unwatch}. */
    public void watch(String id, Consumer<JobStatus> watcher) {
        watchers.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>()).add(watcher);
    }

    public void unwatch(String id, Consumer<JobStatus> watcher) {
        watchers.computeIfPresent(id, (k, list) -> {
            list.remove(watcher);
            return list.isEmpty() ? null : list;
        });
    }

    /**
     * Calls {@code listener} with (previous, next; previous null for a new job) at every change of any job, in log
     * order, also while catching up at start-up; before the job's own watchers. Listeners must be quick: they run on
     * the thread that reads the log.
     */
    public void onChange(BiConsumer<JobStatus, JobStatus> listener) {
        changeListeners.add(listener);
    }

    public void removeChangeListener(BiConsumer<JobStatus, JobStatus> listener) {
        changeListeners.remove(listener);
    }

    /** Calls {@code listener} whenever a job reaches a terminal state (also while catching up at start-up). */
    public void onTerminal(Consumer<JobStatus> listener) {
        terminalListeners.add(listener);
    }

    /** A snapshot of all terminal jobs, for listeners that register late. */
    public List<JobStatus> terminalJobs() {
        return jobs.values().stream().filter(JobStatus::terminal).toList();
    }
}
