package dev.latentpipeline.pipeline;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A request's priority. Kafka has none, so each stage input has one topic per priority ({@code sd.requests.high},
 * {@code sd.requests}, {@code sd.requests.low}, and the same for sd.embeddings and sd.latents) and every stage reads
 * all three, taking the highest priority waiting (messaging/StageConsumer, with its rule against starvation).
 */
public enum RequestPriority {
    HIGH(".high"), NORMAL(""), LOW(".low");

    private final String suffix;

    RequestPriority(String suffix) {
        this.suffix = suffix;
    }

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static RequestPriority of(String name) {
        return Arrays.stream(values()).filter(p -> p.wireName().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("priority must be high, normal or low, not " + name));
    }

    /** This priority's topic for a stage input whose normal-priority topic is {@code base}. */
    public String topic(String base) {
        return base + suffix;
    }

    /** A stage input's topics, highest priority first. */
    public static List<String> topics(String base) {
        return Arrays.stream(values()).map(p -> p.topic(base)).toList();
    }
}
