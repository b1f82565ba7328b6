package dev.latentpipeline.deploy;

import static dev.latentpipeline.deploy.Manifests.at;
import static dev.latentpipeline.deploy.Manifests.name;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.messaging.KafkaClients;
import dev.latentpipeline.pipeline.RequestPriority;
import dev.latentpipeline.pipeline.Role;
import dev.latentpipeline.pipeline.Topics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.NewTopic;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * deploy/ and k8s/ parse, and use the topic names, consumer groups, settings, ports and probe paths the app has.
 * The app side is read from application.properties, PipelineConfig and Role, never repeated here.
 */
class DeploymentManifestsTest {
    private static final AppSettings APP = new AppSettings();
    private static final String IMAGE = "latent-pipeline";
    /** Roles with a model: each needs a GPU in k8s/ and in the CUDA compose variant. */
    private static final Set<Role> MODEL_ROLES = EnumSet.of(Role.TEXT_ENCODER, Role.UNET, Role.VAE);
    /**
     * The gateway role and its webhook secret come from the gateway branch; accepted here until Role and
     * PipelineConfig declare them, after which the ordinary checks below cover them.
     */
    private static final String GATEWAY = "gateway";
    /** Read by Quarkus' OTLP exporter and by the JVM, not declared by this app. */
    private static final Set<String> PLATFORM_ENV = Set.of("QUARKUS_OTEL_EXPORTER_OTLP_ENDPOINT",
            "JAVA_TOOL_OPTIONS", "MALLOC_ARENA_MAX");
    /** Where the images keep deploy/jvm.options; their entrypoint reads it as a java @argfile. */
    private static final String JVM_OPTIONS_IN_IMAGE = "/deployments/jvm.options";
    /**
     * Room a container's memory limit keeps beside the heap bound: the rest of a role's RSS with the built-in model
     * was 120-145 MB (RSS less the committed heap, docs/memory.md). A real model's native memory comes on top of both.
     */
    private static final long NON_HEAP_MIB = 256;

    // ---- parsing -------------------------------------------------------------------------------------------------

    @Test
    void everyManifestParses() {
        for (Path folder : List.of(Manifests.DEPLOY, Manifests.K8S)) {
            List<Path> files = Manifests.yamlFiles(folder);
            assertFalse(files.isEmpty(), "no YAML in " + folder);
            for (Path file : files) {
                assertFalse(Manifests.documents(file).isEmpty(), file + " has no document");
            }
        }
        for (Map<String, Object> object : Manifests.k8sObjects()) {
            assertTrue(object.get("apiVersion") instanceof String && object.get("kind") instanceof String,
                    "apiVersion and kind: " + object);
            if (!"Kustomization".equals(object.get("kind"))) {
                assertFalse(name(object).isBlank());
            }
        }
    }

    @Test
    void kustomizationListsEveryManifest() {
        Map<String, Object> kustomization = Manifests.documents(Manifests.K8S.resolve("kustomization.yaml")).get(0);
        List<String> resources = at(kustomization, "resources");
        Set<String> files = new TreeSet<>();
        Manifests.yamlFiles(Manifests.K8S).forEach(f -> files.add(Manifests.K8S.relativize(f).toString()));
        files.remove("kustomization.yaml");
        assertEquals(files, new TreeSet<>(resources));
    }

    // ---- topics --------------------------------------------------------------------------------------------------

    private static List<NewTopic> appTopics() {
        return Topics.wanted(APP.pipeline.topics());
    }

    private static Map<String, Object> kafkaTopic(String topicName) {
        return Manifests.ofKind("KafkaTopic").stream().filter(t -> topicName.equals(at(t, "spec", "topicName")))
                .findFirst().orElseThrow(() -> new AssertionError("no KafkaTopic for " + topicName));
    }

    private static int partitions(String topicName) {
        return at(kafkaTopic(topicName), "spec", "partitions");
    }

    @Test
    void kafkaTopicsAreTheAppsTopicsWithItsSettings() {
        List<Map<String, Object>> topics = Manifests.ofKind("KafkaTopic");
        Set<String> declared = new HashSet<>();
        topics.forEach(t -> declared.add(at(t, "spec", "topicName")));
        Set<String> wanted = new HashSet<>();
        appTopics().forEach(t -> wanted.add(t.name()));
        assertEquals(wanted, declared);
        Set<String> clusters = new HashSet<>();
        Manifests.ofKind("Kafka").forEach(k -> clusters.add(name(k)));
        for (NewTopic topic : appTopics()) {
            Map<String, Object> resource = kafkaTopic(topic.name());
            assertTrue(clusters.contains(at(resource, "metadata", "labels", "strimzi.io/cluster")), topic.name());
            Map<String, Object> config = at(resource, "spec", "config");
            topic.configs().forEach((key, value) ->
                    assertEquals(value, String.valueOf(config.get(key)), topic.name() + " " + key));
        }
    }

    @Test
    void partitionCountsFitTogether() {
        PipelineConfig.Topics names = APP.pipeline.topics();
        int embeddings = partitions(names.embeddings());
        // Each stage reads its three priority topics together: the same partitions for each.
        for (String base : List.of(names.requests(), names.embeddings(), names.latents())) {
            for (String topic : RequestPriority.topics(base)) {
                assertEquals(partitions(base), partitions(topic), topic);
            }
        }
        // messaging/SideCheckpoints refuses to start otherwise: one checkpoint partition per embeddings partition
        // of each priority.
        assertEquals(embeddings * RequestPriority.values().length, partitions(names.checkpoints()));
        Topics.wanted(names).stream().filter(t -> t.name().equals(names.checkpoints())).forEach(t ->
                assertEquals(t.numPartitions(), names.partitions() * RequestPriority.values().length,
                        "the app creates the same ratio"));
    }

    // ---- KEDA ----------------------------------------------------------------------------------------------------

    private static String configMapValue(String key) {
        for (Map<String, Object> map : Manifests.ofKind("ConfigMap")) {
            Map<String, Object> data = at(map, "data");
            if (data.containsKey(key)) {
                return String.valueOf(data.get(key));
            }
        }
        throw new AssertionError("no ConfigMap sets " + key);
    }

    @Test
    void eachStageScalesOnItsConsumerGroupLag() {
        List<Map<String, Object>> scaledObjects = Manifests.ofKind("ScaledObject");
        for (Role role : MODEL_ROLES) {
            String group = role.consumerGroup();
            String topic = APP.value(switch (role) {
                case TEXT_ENCODER -> "sd.topics.requests";
                case UNET -> "sd.topics.embeddings";
                default -> "sd.topics.latents";
            });
            List<Map<String, Object>> matching = scaledObjects.stream()
                    .filter(s -> group.equals(at(s, "spec", "triggers", 0, "metadata", "consumerGroup"))).toList();
            assertEquals(1, matching.size(), "ScaledObjects on consumer group " + group);
            Map<String, Object> scaled = matching.get(0);
            // One trigger per priority topic the stage reads: lag on any of them wakes and scales it.
            List<Map<String, Object>> triggers = at(scaled, "spec", "triggers");
            List<String> triggerTopics = new ArrayList<>();
            for (Map<String, Object> trigger : triggers) {
                assertEquals("kafka", trigger.get("type"));
                assertEquals(group, at(trigger, "metadata", "consumerGroup"));
                triggerTopics.add(at(trigger, "metadata", "topic"));
                assertEquals(configMapValue(AppSettings.envName(AppSettings.bootstrapProperty())),
                        at(trigger, "metadata", "bootstrapServers"), group);
                assertEquals(KafkaClients.AUTO_OFFSET_RESET, at(trigger, "metadata", "offsetResetPolicy"));
            }
            assertEquals(new TreeSet<>(RequestPriority.topics(topic)), new TreeSet<>(triggerTopics), group);
            Map<String, Object> target = deployment(at(scaled, "spec", "scaleTargetRef", "name"));
            assertEquals(role.configName(), env(appContainer(target)).get("SD_ROLES"), name(target));
            int min = at(scaled, "spec", "minReplicaCount");
            int max = at(scaled, "spec", "maxReplicaCount");
            int partitions = partitions(topic);
            assertTrue(0 <= min && min <= max, group + " replicas " + min + ".." + max);
            assertTrue(max <= partitions, group + ": " + max + " workers but only " + partitions + " partitions");
            assertFalse(target.containsKey("replicas") || ((Map<?, ?>) target.get("spec")).containsKey("replicas"),
                    "KEDA owns the replicas of " + name(target));
        }
    }

    // ---- Deployments ---------------------------------------------------------------------------------------------

    private static Map<String, Object> deployment(String name) {
        return Manifests.ofKind("Deployment").stream().filter(d -> name.equals(name(d))).findFirst()
                .orElseThrow(() -> new AssertionError("no Deployment " + name));
    }

    private static List<Map<String, Object>> appDeployments() {
        return Manifests.ofKind("Deployment").stream().filter(d -> appContainerOrNull(d) != null).toList();
    }

    private static Map<String, Object> appContainerOrNull(Map<String, Object> deployment) {
        List<Map<String, Object>> containers = at(deployment, "spec", "template", "spec", "containers");
        return containers.stream().filter(c -> String.valueOf(c.get("image")).startsWith(IMAGE)).findFirst()
                .orElse(null);
    }

    private static Map<String, Object> appContainer(Map<String, Object> deployment) {
        Map<String, Object> container = appContainerOrNull(deployment);
        assertTrue(container != null, "no " + IMAGE + " container in " + name(deployment));
        return container;
    }

    /** The container's own env entries (name to value, null for valueFrom). */
    private static Map<String, Object> env(Map<String, Object> container) {
        Map<String, Object> env = new HashMap<>();
        List<Map<String, Object>> entries = container.containsKey("env") ? at(container, "env") : List.of();
        entries.forEach(e -> env.put(String.valueOf(e.get("name")), e.get("value")));
        return env;
    }

    /** Names the container sees: its env entries plus every key of the ConfigMaps and Secrets it loads. */
    private static Set<String> envNames(Map<String, Object> container) {
        Set<String> names = new TreeSet<>(env(container).keySet());
        List<Map<String, Object>> from = container.containsKey("envFrom") ? at(container, "envFrom") : List.of();
        for (Map<String, Object> source : from) {
            boolean configMap = source.containsKey("configMapRef");
            String ref = configMap ? at(source, "configMapRef", "name") : at(source, "secretRef", "name");
            Map<String, Object> object = Manifests.ofKind(configMap ? "ConfigMap" : "Secret").stream()
                    .filter(o -> ref.equals(name(o))).findFirst()
                    .orElseThrow(() -> new AssertionError("envFrom names a missing " + ref));
            Map<String, Object> data = at(object, configMap ? "data" : "stringData");
            names.addAll(data.keySet());
        }
        return names;
    }

    private static void assertKnownSetting(String where, String name) {
        boolean known;
        if (name.startsWith("SD_")) {
            known = AppSettings.pipelineProperties().stream().map(AppSettings::envName).anyMatch(name::equals);
        } else {
            known = AppSettings.propertiesFileEnvNames().contains(name) || PLATFORM_ENV.contains(name)
                    || name.equals(AppSettings.envName(AppSettings.bootstrapProperty()));
        }
        assertTrue(known, where + ": " + name + " is no setting of the app (PipelineConfig: "
                + AppSettings.pipelineProperties() + ")");
    }

    private static void assertRole(String where, Object roles) {
        assertTrue(roles instanceof String, where + ": SD_ROLES missing");
        Role.parse((String) roles);
    }

    @Test
    void deploymentsUseTheAppsPortProbesAndSettings() {
        Set<String> rolesDeployed = new HashSet<>();
        for (Map<String, Object> deployment : appDeployments()) {
            String where = "Deployment " + name(deployment);
            Map<String, Object> container = appContainer(deployment);
            List<Map<String, Object>> ports = at(container, "ports");
            Map<String, Object> http = ports.stream().filter(p -> "http".equals(p.get("name"))).findFirst()
                    .orElseThrow(() -> new AssertionError(where + ": no port named http"));
            assertEquals(APP.httpPort(), http.get("containerPort"), where);
            assertEquals(APP.livenessPath(), at(container, "livenessProbe", "httpGet", "path"), where);
            assertEquals(APP.readinessPath(), at(container, "readinessProbe", "httpGet", "path"), where);
            assertEquals(APP.livenessPath(), at(container, "startupProbe", "httpGet", "path"), where);
            for (String probe : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
                assertEquals("http", at(container, probe, "httpGet", "port"), where + " " + probe);
            }
            Map<String, Object> annotations = at(deployment, "spec", "template", "metadata", "annotations");
            assertEquals(APP.metricsPath(), annotations.get("prometheus.io/path"), where);
            assertEquals(Integer.toString(APP.httpPort()), annotations.get("prometheus.io/port"), where);
            envNames(container).forEach(n -> assertKnownSetting(where, n));
            Object roles = env(container).get("SD_ROLES");
            assertRole(where, roles);
            rolesDeployed.add((String) roles);
            boolean modelStage = MODEL_ROLES.stream().anyMatch(r -> r.configName().equals(roles));
            Map<String, Object> limits = at(container, "resources", "limits");
            assertEquals(modelStage, limits.containsKey("nvidia.com/gpu"), where + ": GPU for model stages only");
        }
        for (Role role : Role.values()) {
            assertTrue(rolesDeployed.contains(role.configName()), "no Deployment runs " + role.configName());
        }
        assertTrue(rolesDeployed.contains(GATEWAY), "no Deployment runs the gateway");
    }

    @Test
    void everyDeploymentHasADisruptionBudget() {
        List<Map<String, Object>> budgets = Manifests.ofKind("PodDisruptionBudget");
        for (Map<String, Object> deployment : appDeployments()) {
            Map<String, Object> labels = at(deployment, "spec", "template", "metadata", "labels");
            boolean covered = budgets.stream().anyMatch(b -> {
                Map<String, Object> selector = at(b, "spec", "selector", "matchLabels");
                return labels.entrySet().containsAll(selector.entrySet());
            });
            assertTrue(covered, "no PodDisruptionBudget selects " + name(deployment));
        }
    }

    // ---- docker compose ------------------------------------------------------------------------------------------

    private static Map<String, Map<String, Object>> composeServices(String file) {
        Map<String, Object> compose = Manifests.documents(Manifests.DEPLOY.resolve(file)).get(0);
        return at(compose, "services");
    }

    @Test
    void composeRunsEveryRoleWithTheAppsSettings() {
        Map<String, Map<String, Object>> services = composeServices("docker-compose.yml");
        Set<String> rolesRun = new HashSet<>();
        for (Map.Entry<String, Map<String, Object>> service : services.entrySet()) {
            Map<String, Object> environment = service.getValue().containsKey("environment")
                    ? at(service.getValue(), "environment") : Map.of();
            if (!environment.containsKey("SD_ROLES")) {
                continue;
            }
            String where = "compose service " + service.getKey();
            assertRole(where, environment.get("SD_ROLES"));
            rolesRun.add((String) environment.get("SD_ROLES"));
            environment.keySet().forEach(n -> assertKnownSetting(where, n));
            List<String> healthcheck = at(service.getValue(), "healthcheck", "test");
            assertTrue(healthcheck.contains("http://localhost:" + APP.httpPort() + APP.readinessPath()), where);
            // Other containers are reached by service name.
            String bootstrap = String.valueOf(environment.get(AppSettings.envName(AppSettings.bootstrapProperty())));
            assertTrue(services.containsKey(bootstrap.split(":")[0]), where + ": " + bootstrap);
            String advertised = String.valueOf((Object) at(services.get("kafka"), "environment",
                    "KAFKA_ADVERTISED_LISTENERS"));
            assertTrue(advertised.contains("://" + bootstrap), where + ": kafka does not advertise " + bootstrap);
            String s3 = String.valueOf(environment.get("SD_S3_ENDPOINT"));
            assertTrue(services.containsKey(s3.replaceFirst("^https?://", "").split(":")[0]), where + ": " + s3);
        }
        for (Role role : Role.values()) {
            assertTrue(rolesRun.contains(role.configName()), "no compose service runs " + role.configName());
        }
        assertTrue(rolesRun.contains(GATEWAY), "no compose service runs the gateway");
        List<String> gatewayPorts = at(services.values().stream()
                .filter(s -> GATEWAY.equals(((Map<?, ?>) s.getOrDefault("environment", Map.of())).get("SD_ROLES")))
                .findFirst().orElseThrow(), "ports");
        assertTrue(gatewayPorts.stream().anyMatch(p -> p.endsWith(":" + APP.httpPort())), "gateway port");
    }

    @Test
    void cudaVariantGivesEveryModelStageAGpu() {
        Map<String, Map<String, Object>> base = composeServices("docker-compose.yml");
        Map<String, Map<String, Object>> cuda = composeServices("docker-compose.cuda.yml");
        Set<String> gpuRoles = new HashSet<>();
        for (Map.Entry<String, Map<String, Object>> service : cuda.entrySet()) {
            assertTrue(base.containsKey(service.getKey()), "the CUDA file overrides unknown " + service.getKey());
            List<Map<String, Object>> devices = at(service.getValue(), "deploy", "resources", "reservations",
                    "devices");
            assertEquals("nvidia", devices.get(0).get("driver"));
            assertTrue(((List<?>) devices.get(0).get("capabilities")).contains("gpu"));
            assertEquals("deploy/Dockerfile.cuda", at(service.getValue(), "build", "dockerfile"));
            gpuRoles.add(String.valueOf((Object) at(base.get(service.getKey()), "environment", "SD_ROLES")));
        }
        Set<String> modelRoles = new HashSet<>();
        MODEL_ROLES.forEach(r -> modelRoles.add(r.configName()));
        assertEquals(modelRoles, gpuRoles);
    }

    @Test
    void dockerfilesRunTheFastJarOnTheAppsPort() throws IOException {
        for (String file : List.of("Dockerfile", "Dockerfile.cuda")) {
            String text = Files.readString(Manifests.DEPLOY.resolve(file));
            assertTrue(text.contains("EXPOSE " + APP.httpPort()), file);
            assertTrue(text.contains("target/quarkus-app/") && text.contains("quarkus-run.jar"), file);
            List<String> builds = new ArrayList<>();
            text.lines().filter(l -> l.contains("mvnw") && l.contains("package")).forEach(builds::add);
            assertEquals(1, builds.size(), file + " builds once");
            assertEquals(file.endsWith(".cuda"), builds.get(0).contains("-Pgpu"), file);
        }
        String compose = Files.readString(Manifests.DEPLOY.resolve("docker-compose.yml"));
        if (!compose.contains("dockerfile: deploy/Dockerfile")) {
            fail("docker-compose.yml does not build deploy/Dockerfile");
        }
    }

    // ---- JVM settings (docs/memory.md) ---------------------------------------------------------------------------

    private static List<String> jvmOptions() throws IOException {
        return Files.readAllLines(Manifests.DEPLOY.resolve("jvm.options")).stream()
                .map(l -> l.replaceFirst("#.*", "").trim()).filter(l -> !l.isEmpty()).toList();
    }

    /** MiB of a -Xmx flag (k, m, g) in a JAVA_TOOL_OPTIONS value; fails when there is none. */
    static long heapBoundMib(String where, Object javaToolOptions) {
        Matcher m = Pattern.compile("(?:^|\\s)-Xmx(\\d+)([kKmMgG])(?:\\s|$)")
                .matcher(String.valueOf(javaToolOptions));
        assertTrue(m.find(), where + ": JAVA_TOOL_OPTIONS sets no -Xmx: " + javaToolOptions);
        long n = Long.parseLong(m.group(1));
        return switch (Character.toLowerCase(m.group(2).charAt(0))) {
            case 'k' -> n / 1024;
            case 'g' -> n * 1024;
            default -> n;
        };
    }

    /** MiB of a Kubernetes memory quantity (Mi, Gi, M, G). */
    static long quantityMib(String where, Object quantity) {
        Matcher m = Pattern.compile("(\\d+)(Mi|Gi|M|G)").matcher(String.valueOf(quantity));
        assertTrue(m.matches(), where + ": memory quantity " + quantity);
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "Gi" -> n * 1024;
            case "G" -> n * 1000 * 1000 * 1000 / (1024 * 1024);
            case "M" -> n * 1000 * 1000 / (1024 * 1024);
            default -> n;
        };
    }

    @Test
    void imagesRunEveryRoleWithTheFlagsOfJvmOptions() throws IOException {
        List<String> flags = jvmOptions();
        assertFalse(flags.isEmpty());
        for (String flag : flags) {
            assertTrue(flag.startsWith("-") && !flag.contains(" "), "jvm.options: one flag per line, not " + flag);
            // A flag here comes after JAVA_TOOL_OPTIONS on the command line and wins, so the per-role heap bound
            // could not be set.
            assertFalse(flag.startsWith("-Xmx") || flag.startsWith("-XX:MaxHeapSize")
                    || flag.startsWith("-XX:MaxRAMPercentage"), "jvm.options leaves the heap bound to roles: " + flag);
        }
        assertTrue(flags.contains("-XX:+UseSerialGC"), "jvm.options: " + flags);
        for (String file : List.of("Dockerfile", "Dockerfile.cuda")) {
            String text = Files.readString(Manifests.DEPLOY.resolve(file));
            assertTrue(text.contains("deploy/jvm.options " + JVM_OPTIONS_IN_IMAGE), file + " copies jvm.options");
            assertTrue(text.contains("ENTRYPOINT [\"java\", \"@" + JVM_OPTIONS_IN_IMAGE + "\", \"-jar\""),
                    file + " starts java with @" + JVM_OPTIONS_IN_IMAGE);
            assertTrue(text.contains("MALLOC_ARENA_MAX=2"), file + " sets MALLOC_ARENA_MAX");
        }
    }

    @Test
    void everyRoleBoundsItsHeapAlikeInComposeAndK8sAndItsLimitHoldsIt() {
        Map<String, Long> composeHeap = new HashMap<>();
        for (Map.Entry<String, Map<String, Object>> service : composeServices("docker-compose.yml").entrySet()) {
            Map<String, Object> environment = service.getValue().containsKey("environment")
                    ? at(service.getValue(), "environment") : Map.of();
            if (environment.containsKey("SD_ROLES")) {
                String where = "compose service " + service.getKey();
                composeHeap.put((String) environment.get("SD_ROLES"),
                        heapBoundMib(where, environment.get("JAVA_TOOL_OPTIONS")));
                assertEquals("2", String.valueOf(environment.get("MALLOC_ARENA_MAX")), where);
            }
        }
        for (Map<String, Object> deployment : appDeployments()) {
            String where = "Deployment " + name(deployment);
            Map<String, Object> container = appContainer(deployment);
            String role = (String) env(container).get("SD_ROLES");
            long heap = heapBoundMib(where, env(container).get("JAVA_TOOL_OPTIONS"));
            assertEquals(composeHeap.get(role), heap, where + ": -Xmx differs from compose's for " + role);
            long request = quantityMib(where, at(container, "resources", "requests", "memory"));
            long limit = quantityMib(where, at(container, "resources", "limits", "memory"));
            assertTrue(request <= limit, where + ": request " + request + " Mi over limit " + limit + " Mi");
            assertTrue(limit >= heap + NON_HEAP_MIB, where + ": limit " + limit + " Mi leaves less than "
                    + NON_HEAP_MIB + " Mi beside the " + heap + " Mi heap");
        }
    }
}
