package dev.latentpipeline.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged app (target/quarkus-app/quarkus-run.jar) as a separate JVM, configured through the environment as
 * an operator would, with its output in a log file the test can wait on. Failsafe passes the jar's path as the
 * system property {@code latentpipeline.app.jar}.
 */
public final class AppProcess implements AutoCloseable {
    public static final String JAR_PROPERTY = "latentpipeline.app.jar";
    /** Start-up matters more than peak speed for these short-lived workers on a small machine. */
    private static final List<String> JVM_FLAGS = List.of("-XX:TieredStopAtLevel=1", "-Xshare:auto",
            "-XX:+UseSerialGC", "-Xmx512m");

    private final String name;
    private final Process process;
    private final Path log;

    private AppProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    public static Path jar() {
        String jar = System.getProperty(JAR_PROPERTY, "target/quarkus-app/quarkus-run.jar");
        Path path = Path.of(jar);
        if (!Files.isRegularFile(path)) {
            throw new IllegalStateException("packaged app not found at " + path.toAbsolutePath()
                    + ": run ./mvnw verify (which packages it before the integration tests)");
        }
        return path;
    }

    /**
     * Starts one worker. {@code env} is added to this JVM's environment; {@code systemProperties} become -D flags
     * (for settings whose names do not map to environment variables, such as Kafka client properties).
     */
    public static AppProcess start(String name, Path workDir, Map<String, String> env,
            Map<String, String> systemProperties) {
        return start(name, workDir, JVM_FLAGS, env, systemProperties);
    }

    /** As {@link #start(String, Path, Map, Map)}, with these JVM flags instead of the tests' own. */
    public static AppProcess start(String name, Path workDir, List<String> jvmFlags, Map<String, String> env,
            Map<String, String> systemProperties) {
        try {
            Files.createDirectories(workDir);
            Path log = workDir.resolve(name + ".log");
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(jvmFlags);
            systemProperties.forEach((k, v) -> command.add("-D" + k + "=" + v));
            command.add("-jar");
            command.add(jar().toAbsolutePath().toString());
            ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile())
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().putAll(env);
            return new AppProcess(name, builder.start(), log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name, e);
        }
    }

    /** Environment for one role against the given broker and S3 server; the worker id is the process name. */
    public static Map<String, String> roleEnv(String role, String workerId, String bootstrapServers,
            String s3Endpoint, String accessKey, String secretKey, Path modelDir) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SD_ROLES", role);
        env.put("SD_WORKER_ID", workerId);
        env.put("SD_EMBEDDED_MODE", "never");
        env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrapServers);
        env.put("SD_S3_ENDPOINT", s3Endpoint);
        env.put("SD_S3_ACCESS_KEY", accessKey);
        env.put("SD_S3_SECRET_KEY", secretKey);
        env.put("SD_MODEL_BUILTIN_DIR", modelDir.toAbsolutePath().toString());
        // Any HTTP server (health, metrics) on a free port, so several workers share one machine.
        env.put("QUARKUS_HTTP_PORT", "0");
        return env;
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String output() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until the log has a line matching {@code regex}; fails early if the process exits. */
    public Matcher awaitLog(String regex, Duration timeout) {
        Pattern pattern = Pattern.compile(regex);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Matcher m = pattern.matcher(output());
            if (m.find()) {
                return m;
            }
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited (" + process.exitValue() + ") before logging /" + regex
                        + "/:\n" + tail());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " did not log /" + regex + "/ within " + timeout + ":\n" + tail());
            }
            try {
                process.waitFor(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }

    /** Quarkus logs this once its start-up observers (models loaded, topics created) and connectors are done. */
    public void awaitStarted(Duration timeout) {
        awaitLog("started in [0-9.]+s", timeout);
    }

    /** kill -9: no shutdown hooks, no offset commits, no leaving the consumer group. */
    public void killHard() {
        process.destroyForcibly();
        waitForExit(Duration.ofSeconds(10));
    }

    /** SIGTERM, as Kubernetes sends before a pod is removed. */
    public void terminate() {
        process.destroy();
    }

    /** SIGSTOP: the process freezes where it is (a stalled node), holding its work, until {@link #resume}. */
    public void pause() {
        signal("STOP");
    }

    /** SIGCONT after {@link #pause}. */
    public void resume() {
        signal("CONT");
    }

    private void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
            if (kill.waitFor() != 0) {
                throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    public int waitForExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError(name + " still running after " + timeout + ":\n" + tail());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    public String tail() {
        String out = output();
        return out.length() > 6000 ? "..." + out.substring(out.length() - 6000) : out;
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
