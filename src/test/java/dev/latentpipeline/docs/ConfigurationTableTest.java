package dev.latentpipeline.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentpipeline.docs.AppConfigSettings.Setting;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.pipeline.Stages;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.smallrye.config.common.MapBackedConfigSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md has one table of every setting the app reads, and it stays in step with the app: the
 * settings come from the config mapping interfaces and @ConfigProperty injection points by reflection
 * ({@link AppConfigSettings}), never from a list kept here.
 */
class ConfigurationTableTest {
    static final Path DOC = Path.of("docs/configuration.md");
    static final String TABLE = "Settings";

    record Row(String key, String env, Optional<String> defaultValue) {
    }

    /** The table's rows by normalized key; fails on a malformed or repeated row. */
    static Map<String, Row> rows() {
        Map<String, Row> rows = new TreeMap<>();
        for (List<String> cells : Markdown.read(DOC).table(TABLE)) {
            assertEquals(4, cells.size(), "a row of the settings table needs key, environment, default and meaning: "
                    + cells);
            List<String> keys = Markdown.codeSpans(cells.get(0));
            assertEquals(1, keys.size(), "one `key` per row: " + cells);
            List<String> envs = Markdown.codeSpans(cells.get(1));
            assertTrue(!envs.isEmpty() && cells.get(1).startsWith("`"), "an `ENVIRONMENT_NAME` first: " + cells);
            String cell = cells.get(2);
            Optional<String> defaultValue;
            if (cell.startsWith("`")) {
                defaultValue = Optional.of(Markdown.codeSpans(cell).get(0));
            } else if (cell.startsWith("none")) {
                defaultValue = Optional.empty();
            } else {
                throw new AssertionError("a default is a `value` or starts with \"none\": " + cells);
            }
            Row row = new Row(keys.get(0), envs.get(0), defaultValue);
            Row before = rows.put(AppConfigSettings.normalize(row.key()), row);
            assertTrue(before == null, "two rows for " + row.key());
        }
        return rows;
    }

    static Map<String, Setting> app() {
        Map<String, Setting> app = new TreeMap<>();
        AppConfigSettings.all().forEach((key, setting) -> app.put(AppConfigSettings.normalize(key), setting));
        return app;
    }

    @Test
    void everySettingTheAppReadsHasARow() {
        Map<String, Row> rows = rows();
        List<String> missing = new ArrayList<>();
        app().forEach((key, setting) -> {
            if (!rows.containsKey(key)) {
                missing.add("| `" + setting.key() + "` | `" + setting.env() + "` | "
                        + setting.defaultValue().map(d -> "`" + d + "`").orElse("none") + " | ... |   (declared in "
                        + setting.declaredIn() + ")");
            }
        });
        assertTrue(missing.isEmpty(), DOC + " lacks settings the app reads; add rows such as:\n"
                + String.join("\n", missing));
        // The reflection itself: a few settings it must find, of each kind it handles.
        assertTrue(app().keySet().containsAll(Set.of("sd.roles", "sd.s3.access-key", "sd.api.keys",
                "sd.webhook.session-timeout", "kafka.bootstrap.servers", "sd.kafka.<*>.<*>")), app().keySet()::toString);
    }

    @Test
    void everyRowIsASettingTheAppReads() {
        Set<String> extra = new TreeSet<>(rows().keySet());
        extra.removeAll(app().keySet());
        assertTrue(extra.isEmpty(), DOC + " names settings the app does not read: " + extra);
    }

    @Test
    void defaultsAreTheApps() {
        Map<String, Setting> app = app();
        List<String> wrong = new ArrayList<>();
        rows().forEach((key, row) -> {
            Setting setting = app.get(key);
            if (setting != null && !setting.defaultValue().equals(row.defaultValue())) {
                wrong.add(row.key() + ": the table says " + row.defaultValue().map(d -> "`" + d + "`").orElse("none")
                        + ", the app (" + setting.declaredIn() + ", application.properties) "
                        + setting.defaultValue().map(d -> "`" + d + "`").orElse("none"));
            }
        });
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
    }

    /** The environment column is what SmallRye Config itself reads for the key, not a rule of this test's. */
    @Test
    void environmentNamesAreTheOnesSmallRyeReads() {
        for (Row row : rows().values()) {
            assertEquals(AppConfigSettings.envName(row.key()), AppConfigSettings.normalize(row.env()),
                    "environment name of " + row.key());
            if (row.key().contains("<")) {
                continue;
            }
            EnvConfigSource env = new EnvConfigSource(Map.of(row.env(), "from-the-environment"), 300);
            assertEquals("from-the-environment", env.getValue(row.key()), row.env() + " does not set " + row.key());
        }
    }

    /** What "Kafka client settings" says: the environment reaches unet, vae and producer, but not text-encoder. */
    @Test
    void kafkaClientSettingsFromTheEnvironment() {
        SmallRyeConfig config = new SmallRyeConfigBuilder().addDefaultInterceptors()
                .withSources(new EnvConfigSource(Map.of(
                        "SD_KAFKA_UNET_SESSION_TIMEOUT_MS", "6000",
                        "SD_KAFKA_VAE_MAX_POLL_RECORDS", "3",
                        "SD_KAFKA_PRODUCER_LINGER_MS", "2",
                        "SD_KAFKA_TEXT_ENCODER_MAX_POLL_RECORDS", "5"), 300))
                .withSources(new MapBackedConfigSource("test", Map.of("java.io.tmpdir", "/tmp",
                        "sd.kafka.text-encoder.fetch.min.bytes", "7"), 400) {
                })
                .withConverter(java.time.Duration.class, 200, new io.quarkus.runtime.configuration.DurationConverter())
                .withMapping(PipelineConfig.class)
                .build();
        Map<String, Map<String, String>> kafka = config.getConfigMapping(PipelineConfig.class).kafka();
        assertEquals(Map.of("session.timeout.ms", "6000"), kafka.get(Stages.UNET));
        assertEquals(Map.of("max.poll.records", "3"), kafka.get(Stages.VAE));
        assertEquals(Map.of("linger.ms", "2"), kafka.get("producer"));
        // The documented limitation: the dash of text-encoder cannot be written in an environment name.
        assertEquals(Map.of("fetch.min.bytes", "7"), kafka.get(Stages.TEXT_ENCODER),
                "a system property reaches the text-encoder scope; the environment form does not");
    }

    /** One table: no other page keeps a table of settings of its own. */
    @Test
    void noOtherPageHasASettingsTable() {
        Set<String> keys = app().keySet();
        List<String> found = new ArrayList<>();
        for (Markdown page : Markdown.all()) {
            if (page.file.normalize().equals(DOC.normalize())) {
                continue;
            }
            for (String line : page.prose()) {
                if (!line.startsWith("|")) {
                    continue;
                }
                String first = line.substring(1).split("\\|", 2)[0];
                for (String span : Markdown.codeSpans(first)) {
                    if (keys.contains(AppConfigSettings.normalize(span))) {
                        found.add(page.file + ": " + line);
                    }
                }
            }
        }
        assertTrue(found.isEmpty(), "settings tables outside " + DOC + ":\n" + String.join("\n", found));
    }
}
