package dev.latentpipeline.messaging;

import dev.latentpipeline.observability.StageMetrics;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;

/**
 * One message a stage is working on, observed: the stage's span in the request's trace (child of the record's
 * consumer span, itself child of the upstream stage's context) and the stage's in-flight and latency metrics.
 * Everything the stage sends for it is sent in {@link #trace()}.
 */
final class InHand {
    final Delivery delivery;
    private final Span receive;
    private final Span span;
    private final Context trace;
    private final StageMetrics.Job metricsJob;
    private boolean ended;

    private InHand(Delivery delivery, Span receive, Span span, Context trace, StageMetrics.Job metricsJob) {
        this.delivery = delivery;
        this.receive = receive;
        this.span = span;
        this.trace = trace;
        this.metricsJob = metricsJob;
    }

    static InHand start(Delivery delivery, String stage, String worker, MessagingTracing tracing,
            StageMetrics metrics) {
        Context recordContext = tracing.extract(delivery.headers());
        Span receive = tracing.receive(delivery.partition().topic(), recordContext, delivery.key());
        Context received = recordContext.with(receive);
        Span span = tracing.stage(stage, worker, delivery.key(), received);
        return new InHand(delivery, receive, span, received.with(span), metrics.start(stage));
    }

    Context trace() {
        return trace;
    }

    long queuedUs() {
        return delivery.queuedUs();
    }

    /** Ends the span and the metrics: "ok", or "exception" (with the error on the span). */
    synchronized void end(Throwable error) {
        if (ended) {
            return;
        }
        ended = true;
        if (error != null) {
            span.recordException(error);
            span.setStatus(StatusCode.ERROR);
        }
        metricsJob.end(error == null ? "ok" : "exception");
        span.end();
        receive.end();
    }
}
