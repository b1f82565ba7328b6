package dev.latentpipeline.docs;

import dev.latentpipeline.pipeline.PipelineConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import io.smallrye.config.WithParentName;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Every setting the app reads, found in its compiled classes rather than listed by hand: each
 * {@code @ConfigMapping} interface (prefix, {@code @WithName}, {@code @WithParentName}, {@code @WithDefault},
 * nested groups, Optional, List, Map) and each {@code @ConfigProperty} injection point (fields, constructor and
 * method parameters). A default set in application.properties (no profile) is the effective default.
 */
final class AppConfigSettings {
    static final Path PROPERTIES = Path.of("src/main/resources/application.properties");
    /** A map key in a setting name, e.g. the scope of sd.kafka.&lt;scope&gt;.&lt;property&gt;. */
    static final String PLACEHOLDER = "<*>";

    /** One setting: its name, where it is declared, and its default (empty: none, it is optional or required). */
    record Setting(String key, Optional<String> defaultValue, String declaredIn) {
        String env() {
            return envName(key);
        }
    }

    private AppConfigSettings() {
    }

    /** Settings by name. Fails when two declarations of one name disagree on its default. */
    static Map<String, Setting> all() {
        Map<String, List<Setting>> found = new TreeMap<>();
        for (Class<?> type : appClasses()) {
            ConfigMapping mapping = type.getAnnotation(ConfigMapping.class);
            if (mapping != null) {
                collectGroup(type, mapping.prefix(), found);
            }
            for (Field field : type.getDeclaredFields()) {
                configProperty(field, field.getGenericType(), type, found);
            }
            List<Executable> executables = new ArrayList<>(List.of(type.getDeclaredConstructors()));
            executables.addAll(List.of(type.getDeclaredMethods()));
            for (Executable executable : executables) {
                for (Parameter parameter : executable.getParameters()) {
                    configProperty(parameter, parameter.getParameterizedType(), type, found);
                }
            }
        }
        Map<String, String> file = propertiesFile();
        Map<String, Setting> settings = new TreeMap<>();
        found.forEach((key, declarations) -> {
            Set<Optional<String>> defaults = new LinkedHashSet<>();
            declarations.forEach(d -> defaults.add(d.defaultValue()));
            Optional<String> effective;
            if (file.containsKey(key)) {
                effective = Optional.of(file.get(key));
            } else if (defaults.size() == 1) {
                effective = defaults.iterator().next();
            } else if (defaults.contains(Optional.empty()) && defaults.size() == 2) {
                // Read as optional in one place (it may be unset) and with a fallback elsewhere: no default.
                effective = Optional.empty();
            } else {
                throw new AssertionError("the app declares " + key + " with different defaults: " + declarations);
            }
            List<String> where = declarations.stream().map(Setting::declaredIn).distinct().toList();
            settings.put(key, new Setting(key, effective, String.join(", ", where)));
        });
        return settings;
    }

    private static void configProperty(AnnotatedElement element, Type type, Class<?> owner,
            Map<String, List<Setting>> found) {
        ConfigProperty property = element.getAnnotation(ConfigProperty.class);
        if (property == null) {
            return;
        }
        boolean none = property.defaultValue().equals(ConfigProperty.UNCONFIGURED_VALUE) || isOptional(type);
        add(found, new Setting(property.name(), none ? Optional.empty() : Optional.of(property.defaultValue()),
                owner.getSimpleName()));
    }

    private static void collectGroup(Class<?> group, String prefix, Map<String, List<Setting>> found) {
        for (Method method : group.getMethods()) {
            if (method.getParameterCount() != 0 || method.isDefault() || Modifier.isStatic(method.getModifiers())
                    || method.getDeclaringClass() == Object.class) {
                continue;
            }
            String key;
            if (method.isAnnotationPresent(WithParentName.class)) {
                key = prefix;
            } else {
                WithName name = method.getAnnotation(WithName.class);
                key = join(prefix, name != null ? name.value() : kebab(method.getName()));
            }
            WithDefault withDefault = method.getAnnotation(WithDefault.class);
            collectValue(method.getGenericReturnType(), key,
                    withDefault == null ? Optional.empty() : Optional.of(withDefault.value()),
                    group.getSimpleName(), found);
        }
    }

    private static void collectValue(Type type, String key, Optional<String> defaultValue, String declaredIn,
            Map<String, List<Setting>> found) {
        Class<?> raw = raw(type);
        if (raw == Optional.class) {
            collectValue(argument(type, 0), key, defaultValue, declaredIn, found);
        } else if (Map.class.isAssignableFrom(raw)) {
            collectValue(argument(type, 1), join(key, PLACEHOLDER), Optional.empty(), declaredIn, found);
        } else if (isGroup(raw)) {
            collectGroup(raw, key, found);
        } else {
            add(found, new Setting(key, defaultValue, declaredIn));
        }
    }

    private static void add(Map<String, List<Setting>> found, Setting setting) {
        found.computeIfAbsent(setting.key(), k -> new ArrayList<>()).add(setting);
    }

    /** A nested group: one of the app's own interfaces (values are String, int, Duration, List...). */
    private static boolean isGroup(Class<?> type) {
        return type.isInterface() && type.getName().startsWith("dev.latentpipeline.");
    }

    private static boolean isOptional(Type type) {
        Class<?> raw = raw(type);
        return raw == Optional.class || raw == OptionalInt.class || raw == OptionalLong.class
                || raw == OptionalDouble.class;
    }

    private static Class<?> raw(Type type) {
        if (type instanceof Class<?> c) {
            return c;
        }
        if (type instanceof ParameterizedType p) {
            return (Class<?>) p.getRawType();
        }
        throw new AssertionError("unexpected setting type " + type);
    }

    private static Type argument(Type type, int index) {
        if (type instanceof ParameterizedType p) {
            return p.getActualTypeArguments()[index];
        }
        throw new AssertionError("raw " + type + " in a config mapping");
    }

    private static String join(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix + "." + name;
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    /**
     * The environment variable SmallRye Config reads for a property: sd.s3.access-key is SD_S3_ACCESS_KEY; a map
     * key stays a placeholder.
     */
    static String envName(String key) {
        StringBuilder env = new StringBuilder();
        for (String part : key.split("(?=<)|(?<=>)")) {
            env.append(part.startsWith("<") ? PLACEHOLDER
                    : part.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT));
        }
        return env.toString();
    }

    /** Map keys written as any {@code <name>} compare equal. */
    static String normalize(String key) {
        return key.replaceAll("<[^>]*>", PLACEHOLDER);
    }

    /** Keys application.properties sets without a profile, with their values as written. */
    static Map<String, String> propertiesFile() {
        try {
            Map<String, String> values = new TreeMap<>();
            PropertiesConfigSource source = new PropertiesConfigSource(PROPERTIES.toUri().toURL());
            for (String name : source.getPropertyNames()) {
                if (!name.startsWith("%")) {
                    values.put(name, source.getValue(name));
                }
            }
            return values;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every class compiled from src/main (target/classes), loaded without running its initializers. */
    static List<Class<?>> appClasses() {
        Path root;
        try {
            root = Path.of(PipelineConfig.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        ClassLoader loader = PipelineConfig.class.getClassLoader();
        List<Class<?>> classes = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).sorted().toList()) {
                String name = root.relativize(file).toString().replace(file.getFileSystem().getSeparator(), ".");
                name = name.substring(0, name.length() - ".class".length());
                if (!name.startsWith("dev.latentpipeline.") || name.endsWith("module-info")) {
                    continue;
                }
                try {
                    classes.add(Class.forName(name, false, loader));
                } catch (ClassNotFoundException | LinkageError e) {
                    throw new AssertionError("cannot load " + name + " to read its settings", e);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (classes.size() < 50) {
            throw new AssertionError("found only " + classes.size() + " app classes under " + root);
        }
        return classes;
    }
}
