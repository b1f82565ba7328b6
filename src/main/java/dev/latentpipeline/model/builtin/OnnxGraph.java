package dev.latentpipeline.model.builtin;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * A minimal builder for one ONNX graph (opset 17, IR version 8): named values, constant initializers and nodes.
 * Node outputs get generated names ({@code prefix_N}) so graph code reads like straight-line arithmetic.
 */
final class OnnxGraph {
    static final int OPSET = 17;
    static final long IR_VERSION = 8;

    private final GraphProto.Builder graph = GraphProto.newBuilder();
    /** Initializer names and their raw bytes: a name asked for twice with the same value is shared, not duplicated. */
    private final Map<String, ByteString> initializers = new HashMap<>();
    private int counter;

    OnnxGraph(String name) {
        graph.setName(name);
    }

    /**
     * Declares a graph input. Each dim is an Integer (fixed size) or a String (symbolic dim_param).
     */
    OnnxGraph input(String name, TensorProto.DataType type, Object... dims) {
        graph.addInput(valueInfo(name, type, dims));
        return this;
    }

    /** Declares a graph output; {@code value} is renamed to {@code name} through an Identity node. */
    OnnxGraph output(String value, String name, TensorProto.DataType type, Object... dims) {
        graph.addNode(NodeProto.newBuilder().setOpType("Identity").setName(name + "_out")
                .addInput(value).addOutput(name));
        graph.addOutput(valueInfo(name, type, dims));
        return this;
    }

    String floats(String name, long[] shape, float... values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buf.putFloat(v);
        }
        return initializer(name, TensorProto.DataType.FLOAT, shape, buf.array());
    }

    /** A float matrix constant, row-major, shape [rows, columns]. */
    String matrix(String name, float[][] rows) {
        float[] flat = new float[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * rows[0].length, rows[0].length);
        }
        return floats(name, new long[] {rows.length, rows[0].length}, flat);
    }

    /** A rank-0 float constant. */
    String scalar(String name, float value) {
        return floats(name, new long[0], value);
    }

    String longs(String name, long... values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            buf.putLong(v);
        }
        return initializer(name, TensorProto.DataType.INT64, new long[] {values.length}, buf.array());
    }

    private String initializer(String name, TensorProto.DataType type, long[] shape, byte[] raw) {
        ByteString bytes = ByteString.copyFrom(raw);
        ByteString existing = initializers.putIfAbsent(name, bytes);
        if (existing != null) {
            if (!existing.equals(bytes)) {
                throw new IllegalStateException("initializer " + name + " defined twice with different values");
            }
            return name;
        }
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type.getNumber())
                .setRawData(bytes);
        for (long d : shape) {
            t.addDims(d);
        }
        graph.addInitializer(t);
        return name;
    }

    /** Adds a single-output node and returns the name of its output. */
    String op(String opType, String... inputs) {
        return op(opType, new AttributeProto[0], inputs);
    }

    String op(String opType, AttributeProto attribute, String... inputs) {
        return op(opType, new AttributeProto[] {attribute}, inputs);
    }

    String op(String opType, AttributeProto[] attributes, String... inputs) {
        String out = opType.toLowerCase() + "_" + counter++;
        NodeProto.Builder node = NodeProto.newBuilder().setOpType(opType).setName(out + "_node").addOutput(out);
        for (String in : inputs) {
            node.addInput(in);
        }
        for (AttributeProto a : attributes) {
            node.addAttribute(a);
        }
        graph.addNode(node);
        return out;
    }

    static AttributeProto intAttr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    static AttributeProto intsAttr(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    static AttributeProto stringAttr(String name, String value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(value)).build();
    }

    ModelProto toModel(String docString) {
        return ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName("latent-pipeline-builtin")
                .setProducerVersion("1")
                .setDocString(docString)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(graph)
                .build();
    }

    private static ValueInfoProto valueInfo(String name, TensorProto.DataType type, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
            if (d instanceof Integer size) {
                dim.setDimValue(size);
            } else {
                dim.setDimParam((String) d);
            }
            shape.addDim(dim);
        }
        TypeProto.Tensor.Builder tensor = TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape);
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(tensor)).build();
    }
}
