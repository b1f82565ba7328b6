package dev.latentpipeline.messaging;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * One request is one trace across every stage: the W3C trace context travels in each record's headers
 * (traceparent), each hop gets a producer span ("sd.embeddings publish") and a consumer span ("sd.embeddings
 * receive"), and each stage's work a span of its own ("unet process") tagged with the request id and worker.
 */
@ApplicationScoped
public class MessagingTracing {
    static final String INSTRUMENTATION = "dev.latentpipeline";
    public static final String REQUEST_ID = "sd.request_id";

    private static final TextMapGetter<Headers> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Headers headers) {
            List<String> keys = new ArrayList<>();
            headers.forEach(h -> keys.add(h.key()));
            return keys;
        }

        @Override
        public String get(Headers headers, String key) {
            Header header = headers == null ? null : headers.lastHeader(key);
            return header == null || header.value() == null ? null
                    : new String(header.value(), StandardCharsets.UTF_8);
        }
    };

    private static final TextMapSetter<Headers> SETTER = (headers, key, value) -> {
        headers.remove(key);
        headers.add(key, value.getBytes(StandardCharsets.UTF_8));
    };

    @Inject
    OpenTelemetry telemetry;

    private Tracer tracer() {
        return telemetry.getTracer(INSTRUMENTATION);
    }

    /** The trace context a record carries (the upstream stage's), or the root context. */
    public Context extract(Headers headers) {
        return telemetry.getPropagators().getTextMapPropagator().extract(Context.root(), headers, GETTER);
    }

    void inject(Context context, Headers headers) {
        telemetry.getPropagators().getTextMapPropagator().inject(context, headers, SETTER);
    }

    /** The consumer span of a record taken from {@code topic}, child of the record's own context. */
    public Span receive(String topic, Context recordContext, String requestId) {
        return messaging(topic + " receive", SpanKind.CONSUMER, topic, recordContext, requestId);
    }

    Span publish(String topic, Context parent, String requestId) {
        return messaging(topic + " publish", SpanKind.PRODUCER, topic, parent, requestId);
    }

    private Span messaging(String name, SpanKind kind, String topic, Context parent, String requestId) {
        var builder = tracer().spanBuilder(name).setSpanKind(kind).setParent(parent)
                .setAttribute("messaging.system", "kafka")
                .setAttribute("messaging.destination.name", topic);
        if (requestId != null) {
            builder.setAttribute(REQUEST_ID, requestId);
        }
        return builder.startSpan();
    }

    /** The span of one stage's work on one request. */
    public Span stage(String stage, String worker, String requestId, Context parent) {
        var builder = tracer().spanBuilder(stage + " process").setSpanKind(SpanKind.INTERNAL).setParent(parent)
                .setAttribute("sd.stage", stage)
                .setAttribute("sd.worker", worker);
        if (requestId != null) {
            builder.setAttribute(REQUEST_ID, requestId);
        }
        return builder.startSpan();
    }
}
