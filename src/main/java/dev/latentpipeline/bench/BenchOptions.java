package dev.latentpipeline.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The benchmark's options, {@code --name value} pairs:
 * <pre>
 * --model-dir DIR       an ONNX export to serve (default: sd.model.dir, else the built-in model)
 * --requests N          requests per measured run (default 20)
 * --warmup N            requests before measuring, not counted (default 3)
 * --concurrency LIST    requests kept in flight, one run each, e.g. 1,4,16 (default 1,20)
 * --batching LIST       on and/or off: the UNet's max batch as configured, or 1 (default on)
 * --previews LIST       on and/or off: previews every sd.previews.every steps, or none (default on)
 * --baseline BOOL       also run the same requests in this JVM without broker or storage (default true)
 * --latents BOOL        give every request explicit initial latents, uploaded once as .npy (default false)
 * --width --height --steps --guidance --scheduler --prompt   the request (512, 512, 20, 7.5, the model's, "a red square")
 * --timeout SECONDS     per run (default 600)
 * --rounds N            the pipeline's runs N times over, the batching list in reverse every other round (off,on
 *                       then on,off): the JIT's warm-up drift then falls on both alike (default 1)
 * </pre>
 */
record BenchOptions(ObjectNode template, int requests, int warmup, List<Integer> concurrency, List<Boolean> batching,
        List<Boolean> previews, boolean baseline, boolean latents, Duration timeout, int rounds) {

    private static final Set<String> KNOWN = Set.of("model-dir", "requests", "warmup", "concurrency", "batching",
            "previews", "baseline", "latents", "width", "height", "steps", "guidance", "scheduler", "prompt", "timeout",
            "rounds");

    static BenchOptions parse(String[] args, ObjectMapper json) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --option value pairs, got " + Arrays.toString(args));
            }
            String name = args[i].substring(2);
            if (!KNOWN.contains(name)) {
                throw new IllegalArgumentException("unknown option --" + name + "; known: " + KNOWN);
            }
            options.put(name, args[++i]);
        }
        ObjectNode template = json.createObjectNode()
                .put("prompt", options.getOrDefault("prompt", "a red square"))
                .put("width", Integer.parseInt(options.getOrDefault("width", "512")))
                .put("height", Integer.parseInt(options.getOrDefault("height", "512")))
                .put("steps", Integer.parseInt(options.getOrDefault("steps", "20")))
                .put("guidance_scale", Double.parseDouble(options.getOrDefault("guidance", "7.5")));
        if (options.containsKey("scheduler")) {
            template.put("scheduler", options.get("scheduler"));
        }
        List<Integer> concurrency = Arrays.stream(options.getOrDefault("concurrency", "1,20").split(","))
                .map(String::trim).map(Integer::parseInt).toList();
        List<Boolean> batching = onOff(options.getOrDefault("batching", "on"), "batching");
        List<Boolean> previews = onOff(options.getOrDefault("previews", "on"), "previews");
        return new BenchOptions(template, Integer.parseInt(options.getOrDefault("requests", "20")),
                Integer.parseInt(options.getOrDefault("warmup", "3")), concurrency, batching, previews,
                Boolean.parseBoolean(options.getOrDefault("baseline", "true")),
                Boolean.parseBoolean(options.getOrDefault("latents", "false")),
                Duration.ofSeconds(Long.parseLong(options.getOrDefault("timeout", "600"))),
                Math.max(1, Integer.parseInt(options.getOrDefault("rounds", "1"))));
    }

    private static List<Boolean> onOff(String value, String option) {
        return Arrays.stream(value.split(",")).map(String::trim).map(v -> switch (v) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException("--" + option + " takes on and/or off, not " + v);
        }).toList();
    }

    /** The batching settings of one round: as given in even rounds, reversed in odd ones. */
    List<Boolean> batchingInRound(int round) {
        if (round % 2 == 0) {
            return batching;
        }
        List<Boolean> reversed = new ArrayList<>(batching);
        Collections.reverse(reversed);
        return reversed;
    }

    /** The value of {@code --model-dir}, looked for before the application starts. */
    static String modelDir(String[] args) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--model-dir")) {
                return args[i + 1];
            }
        }
        return null;
    }
}
