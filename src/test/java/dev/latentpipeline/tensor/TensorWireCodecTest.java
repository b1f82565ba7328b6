package dev.latentpipeline.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.latentpipeline.wire.DType;
import dev.latentpipeline.wire.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class TensorWireCodecTest {

    @Test
    void float32RoundTripIsExactAndLittleEndian() {
        FloatTensor tensor = new FloatTensor(new long[] {1, 2, 3}, new float[] {0f, -1.5f, 3.25f, 1e-8f, 7f, -0f});
        TensorProto proto = TensorWireCodec.encode("latents", tensor);
        assertEquals("latents", proto.getName());
        assertEquals(DType.FLOAT32, proto.getDtype());
        assertEquals(java.util.List.of(1L, 2L, 3L), proto.getShapeList());
        // What a numpy reader does: '<f4'.
        ByteBuffer raw = proto.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(-1.5f, raw.getFloat(4));
        FloatTensor back = TensorWireCodec.decode(proto);
        assertArrayEquals(tensor.shape(), back.shape());
        assertArrayEquals(tensor.data(), back.data());
    }

    @Test
    void float16HalvesTheSizeAndKeepsRepresentableValues() {
        FloatTensor tensor = new FloatTensor(new long[] {4}, new float[] {1f, -2f, 0.5f, 65504f});
        TensorProto proto = TensorWireCodec.encode("x", tensor, DType.FLOAT16);
        assertEquals(8, proto.getData().size());
        // 1.0 in binary16 is 0x3C00, stored little-endian.
        assertEquals(0x00, proto.getData().byteAt(0) & 0xFF);
        assertEquals(0x3C, proto.getData().byteAt(1) & 0xFF);
        assertArrayEquals(tensor.data(), TensorWireCodec.decode(proto).data());
    }

    @Test
    void integerTensorsAreWidenedToFloat() {
        ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(49406).putLong(-3);
        TensorProto proto = TensorProto.newBuilder().setName("ids").setDtype(DType.INT64).addShape(2)
                .setData(ByteString.copyFrom(data.array())).build();
        assertArrayEquals(new float[] {49406f, -3f}, TensorWireCodec.decode(proto).data());
    }

    @Test
    void dataThatDoesNotMatchTheShapeIsRejected() {
        TensorProto proto = TensorProto.newBuilder().setName("x").setDtype(DType.FLOAT32).addShape(3)
                .setData(ByteString.copyFrom(new byte[8])).build();
        MalformedTensorException e = assertThrows(MalformedTensorException.class,
                () -> TensorWireCodec.decode(proto));
        assertTrue(e.getMessage().contains("needs 12 bytes, has 8"), e.getMessage());
    }

    @Test
    void unknownDtypeIsRejected() {
        TensorProto proto = TensorProto.newBuilder().setName("x").setDtypeValue(42).addShape(1)
                .setData(ByteString.copyFrom(new byte[4])).build();
        assertThrows(MalformedTensorException.class, () -> TensorWireCodec.decode(proto));
    }
}
