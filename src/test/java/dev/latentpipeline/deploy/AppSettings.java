package dev.latentpipeline.deploy;

import dev.latentpipeline.api.ApiConfig;
import dev.latentpipeline.api.webhook.WebhookConfig;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.Topics;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.smallrye.config.WithName;
import io.smallrye.config.common.MapBackedConfigSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * What the app itself says its settings are: application.properties (default profile, expressions expanded) read
 * through SmallRye Config into PipelineConfig, and the property names PipelineConfig declares, found by
 * reflection. Manifests are checked against this instead of against values repeated by hand.
 */
final class AppSettings {
    static final Path PROPERTIES = Path.of("src/main/resources/application.properties");

    final SmallRyeConfig config;
    final PipelineConfig pipeline;

    AppSettings() {
        try {
            config = new SmallRyeConfigBuilder()
                    .addDefaultInterceptors()
                    .withSources(new PropertiesConfigSource(PROPERTIES.toUri().toURL(), 250))
                    // Only what defaults in PipelineConfig refer to; not the environment of whoever runs the test.
                    .withSources(new MapBackedConfigSource("system", Map.of("java.io.tmpdir",
                            System.getProperty("java.io.tmpdir")), 100) {
                    })
                    // Quarkus' own duration syntax ("30s"), as the app reads it.
                    .withConverter(java.time.Duration.class, 200, new io.quarkus.runtime.configuration.DurationConverter())
                    .withMapping(PipelineConfig.class)
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        pipeline = config.getConfigMapping(PipelineConfig.class);
    }

    String value(String key) {
        return config.getValue(key, String.class);
    }

    int httpPort() {
        return config.getValue("quarkus.http.port", Integer.class);
    }

    String livenessPath() {
        return value("quarkus.smallrye-health.root-path") + "/" + value("quarkus.smallrye-health.liveness-path");
    }

    String readinessPath() {
        return value("quarkus.smallrye-health.root-path") + "/" + value("quarkus.smallrye-health.readiness-path");
    }

    String metricsPath() {
        return value("quarkus.micrometer.export.prometheus.path");
    }

    /** The Kafka bootstrap property the app reads (not set in application.properties: unset means embedded). */
    static String bootstrapProperty() {
        try {
            return Topics.class.getDeclaredField("bootstrapServers").getAnnotation(ConfigProperty.class).name();
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every sd.* property PipelineConfig declares, e.g. sd.s3.access-key. */
    static Set<String> pipelineProperties() {
        Set<String> names = new TreeSet<>();
        collect(PipelineConfig.class, "sd", names);
        collect(ApiConfig.class, "sd.api", names);
        collect(WebhookConfig.class, "sd.webhook", names);
        return names;
    }

    private static void collect(Class<?> group, String prefix, Set<String> names) {
        for (Method method : group.getMethods()) {
            if (method.getParameterCount() != 0 || method.isDefault()) {
                continue;
            }
            WithName withName = method.getAnnotation(WithName.class);
            String name = prefix + "." + (withName != null ? withName.value() : kebab(method.getName()));
            Class<?> type = method.getReturnType();
            // Nested config groups are the project's own interfaces; leaves are values (String, int, Optional...).
            if (type.isInterface() && type.getName().startsWith("dev.latentpipeline.")) {
                collect(type, name, names);
            } else {
                names.add(name);
            }
        }
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    /** The environment variable SmallRye Config reads for a property: sd.s3.access-key is SD_S3_ACCESS_KEY. */
    static String envName(String property) {
        return property.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
    }

    /** Environment names of the keys application.properties sets for every profile. */
    static Set<String> propertiesFileEnvNames() {
        Set<String> names = new TreeSet<>();
        try {
            new PropertiesConfigSource(PROPERTIES.toUri().toURL()).getPropertyNames().stream()
                    .filter(k -> !k.startsWith("%")).map(AppSettings::envName).forEach(names::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return names;
    }
}
