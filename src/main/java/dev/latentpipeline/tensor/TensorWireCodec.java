package dev.latentpipeline.tensor;

import com.google.protobuf.UnsafeByteOperations;
import dev.latentpipeline.wire.DType;
import dev.latentpipeline.wire.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Converts between {@link FloatTensor} and the wire form in schemas/tensor_message.proto. Stages compute in float32;
 * the wire may carry float16 to halve message size, and integer tensors are accepted and widened on read.
 */
public final class TensorWireCodec {
    private TensorWireCodec() {
    }

    public static TensorProto encode(String name, FloatTensor tensor, DType dtype) {
        float[] values = tensor.data();
        ByteBuffer buffer;
        switch (dtype) {
            case FLOAT32 -> {
                buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                buffer.asFloatBuffer().put(values);
            }
            case FLOAT16 -> {
                buffer = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : values) {
                    buffer.putShort(Float16.fromFloat(v));
                }
                buffer.flip();
            }
            default -> throw new IllegalArgumentException("float tensors go on the wire as FLOAT32 or FLOAT16, not " + dtype);
        }
        TensorProto.Builder builder = TensorProto.newBuilder().setName(name).setDtype(dtype);
        for (long d : tensor.shape()) {
            builder.addShape(d);
        }
        // The buffer is ours alone and never written again: wrap it instead of copying it once more.
        return builder.setData(UnsafeByteOperations.unsafeWrap(buffer.array())).build();
    }

    public static TensorProto encode(String name, FloatTensor tensor) {
        return encode(name, tensor, DType.FLOAT32);
    }

    /**
     * The tensor, refusing NaN and infinity: every tensor that crosses a stage boundary goes through here, and a
     * non-finite value there (a corrupt message, an upstream model that overflowed) must fail the request, not
     * come out as a black image.
     *
     * @throws NonFiniteTensorException naming the tensor
     */
    public static FloatTensor decode(TensorProto proto) {
        return Tensors.requireFinite(decodeValues(proto), "tensor '" + proto.getName() + "'");
    }

    private static FloatTensor decodeValues(TensorProto proto) {
        long[] shape = proto.getShapeList().stream().mapToLong(Long::longValue).toArray();
        long count = FloatTensor.elementCount(shape);
        int width = switch (proto.getDtype()) {
            case FLOAT32, INT32 -> 4;
            case FLOAT16 -> 2;
            case INT64 -> 8;
            default -> throw new MalformedTensorException("tensor '" + proto.getName() + "' has unknown dtype "
                    + proto.getDtypeValue());
        };
        if (proto.getData().size() != count * width) {
            throw new MalformedTensorException("tensor '" + proto.getName() + "' of shape " + Arrays.toString(shape)
                    + " and dtype " + proto.getDtype() + " needs " + count * width + " bytes, has "
                    + proto.getData().size());
        }
        ByteBuffer in = proto.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        float[] values = new float[(int) count];
        switch (proto.getDtype()) {
            case FLOAT32 -> in.asFloatBuffer().get(values);
            case FLOAT16 -> {
                for (int i = 0; i < values.length; i++) {
                    values[i] = Float16.toFloat(in.getShort());
                }
            }
            case INT32 -> {
                for (int i = 0; i < values.length; i++) {
                    values[i] = in.getInt();
                }
            }
            default -> {
                for (int i = 0; i < values.length; i++) {
                    values[i] = in.getLong();
                }
            }
        }
        return new FloatTensor(shape, values);
    }
}
