package dev.latentpipeline.observability;

import jakarta.enterprise.util.Nonbinding;
import jakarta.interceptor.InterceptorBinding;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a stage's message handler: the call is timed and counted in flight (StageMetrics) and runs inside a span
 * of the request's trace (the one the upstream stage's Kafka headers carried), named after the stage and tagged
 * with the request id and worker.
 */
@InterceptorBinding
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface StageObserved {
    /** The stage name (pipeline.Stages). */
    @Nonbinding
    String value();
}
