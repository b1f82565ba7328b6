package dev.latentpipeline.observability;

import dev.latentpipeline.pipeline.WorkerIdentity;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import io.quarkus.arc.ArcInvocationContext;
import jakarta.annotation.Priority;
import jakarta.inject.Inject;
import jakarta.interceptor.AroundInvoke;
import jakarta.interceptor.Interceptor;
import jakarta.interceptor.InvocationContext;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Metrics and the trace span around one stage message (see {@link StageObserved}). */
@StageObserved("")
@Interceptor
@Priority(Interceptor.Priority.APPLICATION)
public class StageObservedInterceptor {
    static final String INSTRUMENTATION = "dev.latentpipeline";

    @Inject
    StageMetrics metrics;
    @Inject
    OpenTelemetry telemetry;
    @Inject
    WorkerIdentity worker;

    @AroundInvoke
    Object observe(InvocationContext invocation) throws Exception {
        String stage = ArcInvocationContext.findIterceptorBinding(invocation, StageObserved.class).value();
        ConsumerRecord<?, ?> record = record(invocation.getParameters());
        // The Kafka connector has already made its consumer span current, its parent taken from the record's
        // traceparent header; the connector's producer span for what the handler sends is a child of this one.
        Span span = telemetry.getTracer(INSTRUMENTATION).spanBuilder(stage + " process")
                .setSpanKind(SpanKind.INTERNAL)
                .setAttribute("sd.stage", stage)
                .setAttribute("sd.worker", worker.id())
                .startSpan();
        if (record != null && record.key() != null) {
            span.setAttribute("sd.request_id", record.key().toString());
        }
        StageMetrics.Job job = metrics.start(stage);
        String outcome = "exception";
        try (Scope ignored = span.makeCurrent()) {
            Object result = invocation.proceed();
            outcome = "ok";
            return result;
        } catch (Exception | Error e) {
            span.recordException(e);
            span.setStatus(StatusCode.ERROR);
            metrics.failed(stage, "uncaught");
            throw e;
        } finally {
            job.end(outcome);
            span.end();
        }
    }

    private static ConsumerRecord<?, ?> record(Object[] parameters) {
        for (Object parameter : parameters) {
            if (parameter instanceof ConsumerRecord<?, ?> record) {
                return record;
            }
        }
        return null;
    }
}
