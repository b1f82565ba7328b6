package dev.latentpipeline.observability;

import jakarta.enterprise.util.Nonbinding;
import jakarta.interceptor.InterceptorBinding;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a stage's message handler: the call is timed and counted in flight (StageMetrics) and runs inside a span
 * whose parent is the trace context the upstream stage put in the Kafka record's headers, so everything the
 * handler sends downstream belongs to the same trace.
 */
@InterceptorBinding
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface StageObserved {
    /** The stage name (pipeline.Stages). */
    @Nonbinding
    String value();
}
