package dev.latentpipeline.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.latentpipeline.api.GenerationView;
import dev.latentpipeline.docs.AppConfigSettings.Setting;
import dev.latentpipeline.pipeline.ErrorCode;
import dev.latentpipeline.pipeline.RequestPriority;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The README is short, opens with the two commands, and links every page of docs/; every relative link and anchor
 * resolves; and what the pages name exists: settings, environment variables, HTTP error codes, request fields.
 */
class DocsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** The root README stays a page a newcomer reads to the end: about 150 lines. */
    static final int README_MAX_LINES = 180;
    /** Names the docs may use that are not settings, topics or names in the code, each with the reason. */
    static final Map<String, String> NOT_IN_THE_APP = Map.of(
            "sd.status", "http-api.md proposes it as a future compacted status topic");

    @Test
    void theReadmeIsShortOpensWithTheTwoCommandsAndLinksEveryPage() throws IOException {
        Markdown readme = Markdown.read(Markdown.README);
        assertTrue(readme.lines.size() <= README_MAX_LINES,
                "README.md has " + readme.lines.size() + " lines; keep it near 150 and move reference to docs/");
        List<Markdown.Block> blocks = readme.blocks();
        assertEquals("./mvnw -q package -DskipTests && java -jar target/quarkus-app/quarkus-run.jar",
                blocks.get(0).text(), "the first command runs the system");
        assertEquals("./mvnw verify", blocks.get(1).text(), "the second runs the tests");
        Set<Path> linked = new TreeSet<>();
        for (String target : readme.linkTargets()) {
            linked.add(Path.of(target.split("#", 2)[0]).normalize());
        }
        try (Stream<Path> pages = Files.list(Markdown.DOCS)) {
            List<Path> unlinked = pages.filter(p -> p.toString().endsWith(".md")).map(Path::normalize)
                    .filter(p -> !linked.contains(p)).toList();
            assertTrue(unlinked.isEmpty(), "README.md links no page " + unlinked);
        }
    }

    @Test
    void everyRelativeLinkAndAnchorResolves() {
        List<String> broken = new ArrayList<>();
        Map<Path, Set<String>> anchors = new HashMap<>();
        int checked = 0;
        for (Markdown page : Markdown.all()) {
            for (String target : page.linkTargets()) {
                if (target.matches("^[a-z]+:.*")) {
                    continue; // http:, https:, mailto:
                }
                checked++;
                String[] parts = target.split("#", 2);
                Path file = parts[0].isEmpty() ? page.file
                        : page.file.toAbsolutePath().getParent().resolve(parts[0]).normalize();
                if (!Files.exists(file)) {
                    broken.add(page.file + ": " + target + " (no such file)");
                    continue;
                }
                if (parts.length == 2) {
                    Set<String> known = anchors.computeIfAbsent(file, f -> Markdown.read(f).anchors());
                    if (!file.toString().endsWith(".md") || !known.contains(parts[1])) {
                        broken.add(page.file + ": " + target + " (no such heading; anchors: " + known + ")");
                    }
                }
            }
        }
        assertTrue(checked > 20, "found only " + checked + " relative links");
        assertTrue(broken.isEmpty(), String.join("\n", broken));
    }

    /** A `sd.something` in the docs is a setting, a group of them, a topic, or a name the code spells out. */
    @Test
    void everySettingTheDocsNameExists() {
        Map<String, Setting> settings = AppConfigSettings.all();
        Set<String> known = new TreeSet<>();
        List<Pattern> patterns = new ArrayList<>();
        settings.forEach((key, setting) -> {
            known.add(key);
            // Groups: sd.limits, sd.limits.* and so on.
            for (int dot = key.indexOf('.'); dot > 0; dot = key.indexOf('.', dot + 1)) {
                known.add(key.substring(0, dot));
                known.add(key.substring(0, dot) + ".*");
            }
            if (key.startsWith("sd.topics.") && setting.defaultValue().isPresent()) {
                for (RequestPriority priority : RequestPriority.values()) {
                    known.add(priority.topic(setting.defaultValue().get())); // topic names, sd.requests.high ...
                }
            }
            if (key.contains(AppConfigSettings.PLACEHOLDER)) {
                patterns.add(Pattern.compile(Pattern.quote(key).replace(AppConfigSettings.PLACEHOLDER, "\\E.+\\Q")));
            }
        });
        known.addAll(stringLiteralsOfMain("sd\\.[^\"\\s]*"));
        known.addAll(NOT_IN_THE_APP.keySet());
        Set<String> unknown = new TreeSet<>();
        for (Markdown page : Markdown.all()) {
            for (String span : page.codeSpans()) {
                if (!span.matches("sd\\.[a-z].*")) {
                    continue;
                }
                String name = span.split("[=\\s]", 2)[0];
                String normalized = AppConfigSettings.normalize(name);
                if (!known.contains(name) && !known.contains(normalized)
                        && patterns.stream().noneMatch(p -> p.matcher(name).matches())) {
                    unknown.add(page.file + ": `" + span + "`");
                }
            }
        }
        assertTrue(unknown.isEmpty(), "names the app does not have:\n" + String.join("\n", unknown));
    }

    /** Every SD_* environment variable the docs show maps to a setting (prose and code blocks alike). */
    @Test
    void everyEnvironmentVariableTheDocsNameExists() {
        Map<String, Setting> settings = AppConfigSettings.all();
        Set<String> known = settings.values().stream().map(s -> AppConfigSettings.normalize(s.env()))
                .collect(Collectors.toSet());
        List<Pattern> patterns = settings.values().stream().map(Setting::env).filter(e -> e.contains("<"))
                .map(e -> Pattern.compile(Pattern.quote(e).replace(AppConfigSettings.PLACEHOLDER, "\\E[A-Z0-9_]+\\Q")))
                .toList();
        Pattern env = Pattern.compile("\\bSD_[A-Z0-9_<>]+");
        Set<String> unknown = new TreeSet<>();
        for (Markdown page : Markdown.all()) {
            for (String line : page.lines) {
                Matcher m = env.matcher(line);
                while (m.find()) {
                    String name = m.group();
                    if (!known.contains(AppConfigSettings.normalize(name))
                            && patterns.stream().noneMatch(p -> p.matcher(name).matches())) {
                        unknown.add(page.file + ": " + name);
                    }
                }
            }
        }
        assertTrue(unknown.isEmpty(), "environment variables no setting reads:\n" + String.join("\n", unknown));
    }

    /** The HTTP API's error table and the codes the gateway answers with are the same set. */
    @Test
    void theErrorTableIsTheGatewaysCodes() {
        Set<String> documented = new TreeSet<>();
        for (List<String> row : Markdown.read(Markdown.DOCS.resolve("http-api.md")).table("Errors")) {
            for (String code : Markdown.codeSpans(row.get(1))) {
                documented.add(row.get(0) + " " + code);
            }
        }
        Set<String> literal = new TreeSet<>();
        Pattern thrown = Pattern.compile("ApiException(?:\\.field)?\\(\\s*(\\d{3}),\\s*\"([a-z_]+)\"");
        for (String source : mainSources()) {
            Matcher m = thrown.matcher(source);
            while (m.find()) {
                literal.add(m.group(1) + " " + m.group(2));
            }
        }
        assertTrue(literal.size() > 10, "found only " + literal);
        Set<String> undocumented = new TreeSet<>(literal);
        undocumented.removeAll(documented);
        assertTrue(undocumented.isEmpty(), "codes the gateway answers with but http-api.md's table lacks: "
                + undocumented);
        // The rest come from request validation, which answers 400 with the failed event's code.
        Set<String> validation = Stream.of(ErrorCode.values()).map(c -> "400 " + c.wireName())
                .collect(Collectors.toSet());
        Set<String> unknown = new TreeSet<>(documented);
        unknown.removeAll(literal);
        unknown.removeAll(validation);
        assertTrue(unknown.isEmpty(), "http-api.md lists codes the gateway never answers with: " + unknown);
    }

    /** contracts.md's request table has exactly the schema's fields, defaults and schedulers. */
    @Test
    void theRequestTableIsTheSchema() throws IOException {
        JsonNode schema = JSON.readTree(Path.of("schemas/generation-request.schema.json").toFile());
        JsonNode properties = schema.get("properties");
        Set<String> fields = new TreeSet<>();
        properties.fieldNames().forEachRemaining(fields::add);
        Set<String> documented = new TreeSet<>();
        for (List<String> row : Markdown.read(Markdown.DOCS.resolve("contracts.md")).table("The request")) {
            List<String> names = Markdown.codeSpans(row.get(0));
            documented.addAll(names);
            for (String name : names) {
                JsonNode field = properties.get(name);
                if (field != null && field.has("default")) {
                    JsonNode d = field.get("default");
                    // An empty string is shown as `""`, other strings as they are.
                    String expected = d.isTextual() && d.asText().isEmpty() ? "\"\"" : d.asText();
                    assertEquals(expected, row.get(1).replace("`", ""), "default of " + name);
                }
                String cell = row.get(1);
                if (field != null && !field.has("default") && cell.matches("`[^`]*`|[0-9.]+")) {
                    // A bare value where the schema has no default must at least be the one its description names.
                    String value = cell.replace("`", "");
                    assertTrue(field.path("description").asText().contains("Default " + value)
                            || field.path("description").asText().contains("default " + value),
                            name + ": the schema has no default, the table says " + cell);
                }
                if (field != null && field.has("enum")) {
                    Set<String> values = new LinkedHashSet<>();
                    field.get("enum").forEach(v -> values.add(v.asText()));
                    List<String> spans = Markdown.codeSpans(row.get(2));
                    assertEquals(List.copyOf(values), spans.subList(0, Math.min(values.size(), spans.size())),
                            "the notes of " + name + " start with its values");
                }
            }
        }
        assertEquals(fields, documented, "request fields in contracts.md against the schema");
        JsonNode required = schema.get("required");
        required.forEach(r -> assertTrue(documentedRow(r.asText()).get(1).contains("required"),
                r.asText() + " is required"));
    }

    /** Every event type of the event schema is named in contracts.md's "Events". */
    @Test
    void everyEventTypeIsDescribed() throws IOException {
        JsonNode types = JSON.readTree(Path.of("schemas/generation-event.schema.json").toFile())
                .at("/properties/type/enum");
        List<String> spans = Markdown.read(Markdown.DOCS.resolve("contracts.md")).section("Events").codeSpans();
        assertFalse(types.isEmpty());
        types.forEach(t -> assertTrue(spans.contains(t.asText()), "contracts.md, Events: no `" + t.asText() + "`"));
    }

    /**
     * The status fields the README's walk-through names are fields of the API's job view, the ones only a waiting job
     * has (queue_position, eta) included, which the walk-through's own fast job never shows.
     */
    @Test
    void theStatusFieldsTheReadmeNamesAreTheApis() {
        Set<String> api = jsonProperties(GenerationView.class);
        List<String> prose = Markdown.read(Markdown.README).section("Walk-through").prose();
        int start = prose.stream().filter(l -> l.startsWith("Its status:")).findFirst().map(prose::indexOf)
                .orElseThrow(() -> new AssertionError("README.md's walk-through has no \"Its status:\" paragraph"));
        StringBuilder text = new StringBuilder();
        for (int i = start; i < prose.size() && !prose.get(i).isBlank(); i++) {
            text.append(prose.get(i)).append(' ');
        }
        String paragraph = text.toString();
        List<String> named = Markdown.codeSpans(paragraph);
        assertTrue(named.containsAll(List.of("queue_position", "eta")), paragraph);
        for (String field : named) {
            assertTrue(api.contains(field), "README.md names status field `" + field + "`; GenerationView has " + api);
        }
    }

    /** JSON property names of a record and of the records and lists of records it holds. */
    private static Set<String> jsonProperties(Class<?> type) {
        Set<String> names = new TreeSet<>();
        for (RecordComponent component : type.getRecordComponents()) {
            JsonProperty property = component.getAccessor().getAnnotation(JsonProperty.class);
            if (property == null) {
                property = component.getAnnotation(JsonProperty.class);
            }
            names.add(property != null ? property.value() : component.getName());
            Class<?> held = component.getType();
            if (List.class.isAssignableFrom(held)
                    && component.getGenericType() instanceof ParameterizedType p
                    && p.getActualTypeArguments()[0] instanceof Class<?> element) {
                held = element;
            }
            if (held.isRecord()) {
                names.addAll(jsonProperties(held));
            }
        }
        return names;
    }

    /** A stale section says what is stale, so its owner knows what to update. */
    @Test
    void staleMarkersSayWhatIsStale() {
        for (Markdown page : Markdown.all()) {
            for (String line : page.prose()) {
                if (line.contains("STALE")) {
                    assertTrue(line.matches("<!-- STALE: .{20,} -->"), page.file + ": " + line);
                }
            }
        }
    }

    private static List<String> documentedRow(String field) {
        return Markdown.read(Markdown.DOCS.resolve("contracts.md")).table("The request").stream()
                .filter(row -> Markdown.codeSpans(row.get(0)).contains(field)).findFirst()
                .orElseThrow(() -> new AssertionError("no row for " + field));
    }

    private static List<String> mainSources() {
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            return files.filter(f -> f.toString().endsWith(".java")).map(f -> {
                try {
                    return Files.readString(f);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** String literals of src/main/java matching {@code regex} (whole literal). */
    private static Set<String> stringLiteralsOfMain(String regex) {
        Pattern literal = Pattern.compile("\"(" + regex + ")\"");
        Set<String> found = new TreeSet<>();
        for (String source : mainSources()) {
            Matcher m = literal.matcher(source);
            while (m.find()) {
                found.add(m.group(1));
            }
        }
        return found;
    }
}
