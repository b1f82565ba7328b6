package dev.latentpipeline.model.builtin;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.platform.Fp16Conversions;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ONNX Runtime plumbing for the built-in model's tests, independent of the pipeline's model code: sessions opened by
 * path (so external data resolves), float feeds created in the element type the input declares (float32 or float16),
 * every float output read back as float32.
 */
final class OrtCalls {
    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    private OrtCalls() {
    }

    /** A feed: float[], int[] or long[] data with its shape. */
    record Feed(Object data, long... shape) {
    }

    /** An output's shape and values. */
    record Output(long[] shape, float[] data) {
    }

    static OrtSession open(Path file) throws OrtException {
        return ENV.createSession(file.toString(), new OrtSession.SessionOptions());
    }

    static Map<String, Output> run(OrtSession session, Map<String, Feed> feeds) throws OrtException {
        List<OnnxTensor> created = new ArrayList<>();
        try {
            Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
            for (Map.Entry<String, Feed> feed : feeds.entrySet()) {
                NodeInfo info = session.getInputInfo().get(feed.getKey());
                assertTrue(info != null, "no input " + feed.getKey() + " in " + session.getInputInfo().keySet());
                OnnxTensor tensor = tensor(((TensorInfo) info.getInfo()).type, feed.getValue());
                created.add(tensor);
                inputs.put(feed.getKey(), tensor);
            }
            try (OrtSession.Result result = session.run(inputs)) {
                Map<String, Output> out = new LinkedHashMap<>();
                for (Map.Entry<String, OnnxValue> entry : result) {
                    OnnxTensor tensor = (OnnxTensor) entry.getValue();
                    FloatBuffer buffer = tensor.getFloatBuffer();  // widens float16
                    float[] data = new float[buffer.remaining()];
                    buffer.get(data);
                    out.put(entry.getKey(), new Output(tensor.getInfo().getShape(), data));
                }
                return out;
            }
        } finally {
            created.forEach(OnnxTensor::close);
        }
    }

    /** The one output {@code name}, checked to have {@code shape}. */
    static float[] output(Map<String, Output> outputs, String name, long... shape) {
        Output out = outputs.get(name);
        assertTrue(out != null, "no output " + name + " in " + outputs.keySet());
        assertArrayEquals(shape, out.shape(), name + " shape");
        return out.data();
    }

    private static OnnxTensor tensor(OnnxJavaType declared, Feed feed) throws OrtException {
        if (feed.data() instanceof int[] ints) {
            return OnnxTensor.createTensor(ENV, IntBuffer.wrap(ints), feed.shape());
        }
        if (feed.data() instanceof long[] longs) {
            return OnnxTensor.createTensor(ENV, LongBuffer.wrap(longs), feed.shape());
        }
        float[] floats = (float[]) feed.data();
        if (declared == OnnxJavaType.FLOAT16) {
            ByteBuffer buffer = ByteBuffer.allocateDirect(floats.length * 2).order(ByteOrder.nativeOrder());
            for (float v : floats) {
                buffer.putShort(Fp16Conversions.floatToFp16(v));
            }
            buffer.rewind();
            return OnnxTensor.createTensor(ENV, buffer, feed.shape(), OnnxJavaType.FLOAT16);
        }
        return OnnxTensor.createTensor(ENV, FloatBuffer.wrap(floats), feed.shape());
    }

    /** Name, element type and shape; -1 marks a dim that must be symbolic, and {@code dimNames} its names. */
    static void assertSignature(Map<String, NodeInfo> infos, String name, OnnxJavaType type, long[] shape,
            String... dimNames) {
        NodeInfo node = infos.get(name);
        assertTrue(node != null, "missing " + name + " in " + infos.keySet());
        TensorInfo info = (TensorInfo) node.getInfo();
        assertEquals(type, info.type, name);
        assertArrayEquals(shape, info.getShape(), name);
        String[] declared = info.getDimensionNames();
        int symbolic = 0;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                assertEquals(dimNames[symbolic++], declared[i], name + " dim " + i);
            } else {
                assertEquals("", declared[i], name + " dim " + i);
            }
        }
        assertEquals(dimNames.length, symbolic, name + ": symbolic dims");
    }
}
