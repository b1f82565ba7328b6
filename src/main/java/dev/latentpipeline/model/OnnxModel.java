package dev.latentpipeline.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.latentpipeline.tensor.Float16;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.NonFiniteTensorException;
import dev.latentpipeline.tensor.Tensors;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One ONNX model file and its session. Callers hand in float32 tensors; this edge converts each to the element
 * type the model declares (float32, float16, int32, int64) and converts outputs back to float32, so fp16 exports
 * and int64-token exports run on the same code path as everything else.
 */
public final class OnnxModel implements AutoCloseable {
    private final String name;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final Map<String, TensorInfo> inputs;
    private final Map<String, TensorInfo> outputs;
    private final AtomicLong nanosInside = new AtomicLong();
    /** Runs share it, closing takes it alone: a session closed under a run crashes the JVM (native code). */
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;
    /** sd_onnx_duration_seconds{model}: Quarkus adds its registries (Prometheus) to Micrometer's global one. */
    private final Timer onnxTimer;

    OnnxModel(String name, OrtEnvironment env, OrtSession session) throws OrtException {
        this.name = name;
        this.env = env;
        this.session = session;
        this.inputs = tensorInfos(session.getInputInfo());
        this.outputs = tensorInfos(session.getOutputInfo());
        this.onnxTimer = Timer.builder("sd.onnx.duration").tag("model", name)
                .description("Time inside ONNX Runtime per session run").publishPercentileHistogram()
                .register(Metrics.globalRegistry);
    }

    private Map<String, TensorInfo> tensorInfos(Map<String, NodeInfo> nodes) {
        Map<String, TensorInfo> infos = new LinkedHashMap<>();
        nodes.forEach((key, node) -> {
            if (!(node.getInfo() instanceof TensorInfo info)) {
                throw new ModelException(name + ": input/output '" + key + "' is not a tensor");
            }
            infos.put(key, info);
        });
        return infos;
    }

    public String name() {
        return name;
    }

    public Map<String, TensorInfo> inputs() {
        return inputs;
    }

    public Map<String, TensorInfo> outputs() {
        return outputs;
    }

    /** The declared input, or a clear error naming what the model does declare. */
    public TensorInfo input(String inputName) {
        TensorInfo info = inputs.get(inputName);
        if (info == null) {
            throw new ModelException(name + " has no input '" + inputName + "'; it declares " + inputs.keySet());
        }
        return info;
    }

    /** The declared input named by one of the candidates (exports disagree on some names). */
    public String firstInputNamed(String... candidates) {
        for (String candidate : candidates) {
            if (inputs.containsKey(candidate)) {
                return candidate;
            }
        }
        throw new ModelException(name + " has none of the inputs " + Arrays.toString(candidates) + "; it declares "
                + inputs.keySet());
    }

    /** Total time spent inside ONNX Runtime by this model, for metrics and the benchmark. */
    public long nanosInside() {
        return nanosInside.get();
    }

    /** Runs the model. Returns every output as float32, keyed by output name, in declaration order. */
    public Map<String, FloatTensor> run(Map<String, FloatTensor> feeds) {
        return run(feeds, Map.of()).outputs();
    }

    /** Outputs of one run and the time spent inside ONNX Runtime for it. */
    public record Run(Map<String, FloatTensor> outputs, long nanos) {
    }

    /**
     * Runs the model on {@code feeds} (converted for this call) plus {@code prepared} inputs (converted once by
     * {@link #prepare} and reused across calls: a denoising loop's text conditioning does not change per step).
     * Every output is checked for NaN and infinity: a model that overflows fails here, naming itself and the tensor,
     * instead of passing garbage on (an fp16 VAE that overflows would otherwise make a black PNG).
     */
    public Run run(Map<String, FloatTensor> feeds, Map<String, PreparedInput> prepared) {
        List<OnnxTensor> created = new ArrayList<>();
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw new ModelException(name + " is closed (the process is stopping)");
            }
            Map<String, OnnxTensor> onnxFeeds = new LinkedHashMap<>();
            for (Map.Entry<String, FloatTensor> feed : feeds.entrySet()) {
                OnnxTensor tensor = toOnnx(feed.getKey(), feed.getValue());
                created.add(tensor);
                onnxFeeds.put(feed.getKey(), tensor);
            }
            prepared.forEach((input, value) -> onnxFeeds.put(input, value.tensor()));
            long start = System.nanoTime();
            try (OrtSession.Result result = session.run(onnxFeeds)) {
                long elapsed = System.nanoTime() - start;
                nanosInside.addAndGet(elapsed);
                onnxTimer.record(elapsed, TimeUnit.NANOSECONDS);
                Map<String, FloatTensor> out = new LinkedHashMap<>();
                for (Map.Entry<String, OnnxValue> entry : result) {
                    FloatTensor value = toFloat(entry.getKey(), entry.getValue());
                    requireFinite(entry.getKey(), value);
                    out.put(entry.getKey(), value);
                }
                return new Run(out, elapsed);
            }
        } catch (OrtException e) {
            throw new ModelException(name + ": inference failed: " + e.getMessage(), e);
        } finally {
            created.forEach(OnnxTensor::close);
            lifecycle.readLock().unlock();
        }
    }

    /** A NaN or infinite output fails the call, saying what that usually means for this model's precision. */
    private void requireFinite(String output, FloatTensor value) {
        try {
            Tensors.requireFinite(value, "output '" + output + "'");
        } catch (NonFiniteTensorException e) {
            TensorInfo info = outputs.get(output);
            boolean half = info != null && info.type == OnnxJavaType.FLOAT16;
            throw new ModelException(name + " returned NaN or infinity: " + e.getMessage() + (half
                    ? ". Its outputs are float16, whose range ends at 65504: the model overflowed in half precision"
                            + " (SDXL's VAE does in fp16; use an export with an fp32 or fp16-fix VAE)"
                    : ". The model overflowed, or its weights are broken"), e);
        }
    }

    /** An input converted to the model's element type once, for reuse across runs; close it when done. */
    public final class PreparedInput implements AutoCloseable {
        private final OnnxTensor tensor;

        private PreparedInput(OnnxTensor tensor) {
            this.tensor = tensor;
        }

        OnnxTensor tensor() {
            return tensor;
        }

        @Override
        public void close() {
            tensor.close();
        }
    }

    public PreparedInput prepare(String inputName, FloatTensor value) {
        try {
            return new PreparedInput(toOnnx(inputName, value));
        } catch (OrtException e) {
            throw new ModelException(name + ": cannot prepare input '" + inputName + "': " + e.getMessage(), e);
        }
    }

    private OnnxTensor toOnnx(String inputName, FloatTensor value) throws OrtException {
        TensorInfo info = input(inputName);
        long[] shape = value.shape();
        checkShape(inputName, info.getShape(), shape);
        float[] data = value.data();
        return switch (info.type) {
            case FLOAT -> OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape);
            case FLOAT16 -> {
                ByteBuffer buffer = ByteBuffer.allocateDirect(data.length * 2).order(ByteOrder.nativeOrder());
                for (float v : data) {
                    buffer.putShort(Float16.fromFloat(v));
                }
                buffer.rewind();
                yield OnnxTensor.createTensor(env, buffer, shape, OnnxJavaType.FLOAT16);
            }
            case DOUBLE -> OnnxTensor.createTensor(env,
                    java.nio.DoubleBuffer.wrap(toDoubles(data)), shape);
            case INT32 -> {
                int[] ints = new int[data.length];
                for (int i = 0; i < data.length; i++) {
                    ints[i] = Math.round(data[i]);
                }
                yield OnnxTensor.createTensor(env, java.nio.IntBuffer.wrap(ints), shape);
            }
            case INT64 -> {
                long[] longs = new long[data.length];
                for (int i = 0; i < data.length; i++) {
                    longs[i] = Math.round((double) data[i]);
                }
                yield OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(longs), shape);
            }
            default -> throw new ModelException(name + ": input '" + inputName + "' has element type " + info.type
                    + ", which this pipeline does not feed");
        };
    }

    private static double[] toDoubles(float[] data) {
        double[] doubles = new double[data.length];
        for (int i = 0; i < data.length; i++) {
            doubles[i] = data[i];
        }
        return doubles;
    }

    private void checkShape(String inputName, long[] declared, long[] actual) {
        boolean fits = declared.length == actual.length;
        for (int i = 0; fits && i < declared.length; i++) {
            fits = declared[i] < 0 || declared[i] == actual[i];
        }
        if (!fits) {
            throw new ModelException(name + ": input '" + inputName + "' is declared " + Arrays.toString(declared)
                    + " (-1 = any), got " + Arrays.toString(actual));
        }
    }

    private FloatTensor toFloat(String outputName, OnnxValue value) throws OrtException {
        if (!(value instanceof OnnxTensor tensor)) {
            throw new ModelException(name + ": output '" + outputName + "' is not a tensor");
        }
        long[] shape = tensor.getInfo().getShape();
        OnnxJavaType type = tensor.getInfo().type;
        float[] data = new float[Math.toIntExact(FloatTensor.elementCount(shape))];
        switch (type) {
            // getFloatBuffer widens fp16 and bf16 to float32.
            case FLOAT, FLOAT16, BFLOAT16 -> tensor.getFloatBuffer().get(data);
            case DOUBLE -> {
                java.nio.DoubleBuffer doubles = tensor.getDoubleBuffer();
                for (int i = 0; i < data.length; i++) {
                    data[i] = (float) doubles.get(i);
                }
            }
            default -> throw new ModelException(name + ": output '" + outputName + "' has element type " + type
                    + ", expected a floating point tensor");
        }
        return new FloatTensor(shape, data);
    }

    /** Waits for runs in progress, then closes the session; later runs fail with a ModelException. */
    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                session.close();
            }
        } catch (OrtException e) {
            throw new ModelException(name + ": closing the session failed", e);
        } finally {
            lifecycle.writeLock().unlock();
        }
    }
}
