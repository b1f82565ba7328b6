package dev.latentpipeline.observability;

import dev.latentpipeline.pipeline.GenerationEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The pipeline's own meters, exported by Micrometer at /q/metrics (Prometheus names in brackets):
 * stage latency (sd_stage_duration_seconds, histogram), jobs in flight per stage (sd_stage_in_flight) and
 * failed requests by stage and error code (sd_stage_errors_total). ONNX time is timed where the session runs
 * (OnnxModel, sd_onnx_duration_seconds); Kafka consumer lag comes from Quarkus' Kafka client binder
 * (kafka_consumer_fetch_manager_records_lag*).
 */
@ApplicationScoped
public class StageMetrics {
    public static final String STAGE_DURATION = "sd.stage.duration";
    public static final String STAGE_IN_FLIGHT = "sd.stage.in.flight";
    public static final String STAGE_ERRORS = "sd.stage.errors";

    private final MeterRegistry registry;
    private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();

    @Inject
    public StageMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Starts timing one job of a stage; close the returned handle when the job is done. */
    public Job start(String stage) {
        AtomicInteger gauge = inFlight.computeIfAbsent(stage, s -> {
            AtomicInteger value = new AtomicInteger();
            Gauge.builder(STAGE_IN_FLIGHT, value, AtomicInteger::get).tag("stage", s)
                    .description("Jobs this worker is processing in the stage").register(registry);
            return value;
        });
        gauge.incrementAndGet();
        return new Job(stage, gauge, Timer.start(registry));
    }

    /** Counts the failed events EventPublisher sends (it fires each one it sends with publish). */
    void onPublished(@Observes GenerationEvent event) {
        if (GenerationEvent.FAILED.equals(event.type())) {
            failed(event.stage(), event.error() == null ? null : event.error().code());
        }
    }

    /** Counts a request that failed in a stage, by its error code (failed events and uncaught exceptions). */
    public void failed(String stage, String code) {
        Counter.builder(STAGE_ERRORS).tag("stage", stage == null ? "unknown" : stage)
                .tag("code", code == null ? "unknown" : code)
                .description("Requests that failed in the stage, by error code").register(registry).increment();
    }

    /** One job in one stage: in flight until {@link #end(String)}. */
    public final class Job {
        private final String stage;
        private final AtomicInteger gauge;
        private final Timer.Sample sample;

        private Job(String stage, AtomicInteger gauge, Timer.Sample sample) {
            this.stage = stage;
            this.gauge = gauge;
            this.sample = sample;
        }

        /** outcome: "ok" when the stage method returned, "exception" when it threw. */
        public void end(String outcome) {
            sample.stop(Timer.builder(STAGE_DURATION).tag("stage", stage).tag("outcome", outcome)
                    .description("Time a worker spent on one message of the stage")
                    .publishPercentileHistogram().register(registry));
            gauge.decrementAndGet();
        }
    }
}
