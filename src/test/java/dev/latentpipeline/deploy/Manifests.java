package dev.latentpipeline.deploy;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** YAML documents of deploy/ and k8s/, parsed by SnakeYAML (anchors and merge keys resolved, as Compose does). */
final class Manifests {
    static final Path DEPLOY = Path.of("deploy");
    static final Path K8S = Path.of("k8s");

    private Manifests() {
    }

    static List<Path> yamlFiles(Path folder) {
        try (Stream<Path> files = Files.walk(folder)) {
            return files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml")).sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every non-empty document of the file, as maps. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> documents(Path file) {
        List<Map<String, Object>> documents = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file)) {
            for (Object document : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(reader)) {
                if (document == null) {
                    continue;
                }
                if (!(document instanceof Map)) {
                    throw new AssertionError(file + ": a document is not a mapping but " + document.getClass());
                }
                documents.add((Map<String, Object>) document);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return documents;
    }

    /** Every Kubernetes object in k8s/. */
    static List<Map<String, Object>> k8sObjects() {
        return yamlFiles(K8S).stream().flatMap(f -> documents(f).stream()).toList();
    }

    static List<Map<String, Object>> ofKind(String kind) {
        return k8sObjects().stream().filter(o -> kind.equals(o.get("kind"))).toList();
    }

    /** Follows a path of map keys and list indexes; fails with the path when something is missing. */
    @SuppressWarnings("unchecked")
    static <T> T at(Object node, Object... path) {
        Object current = node;
        for (Object step : path) {
            if (step instanceof Integer index && current instanceof List<?> list && index < list.size()) {
                current = list.get(index);
            } else if (current instanceof Map<?, ?> map && map.containsKey(step)) {
                current = map.get(step);
            } else {
                throw new AssertionError("no " + step + " in " + current + " (path " + List.of(path) + ")");
            }
        }
        return (T) current;
    }

    static String name(Map<String, Object> object) {
        return at(object, "metadata", "name");
    }
}
