package dev.latentpipeline.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Against files numpy itself wrote (src/test/resources/npy, made with np.save and numpy.lib.format). */
class NpyTest {
    private static byte[] fixture(String name) throws IOException {
        try (InputStream in = NpyTest.class.getResourceAsStream("/npy/" + name)) {
            return in.readAllBytes();
        }
    }

    /** (arange(24) - 3.5) / 4 as float32, shape (1, 4, 2, 3). */
    private static float[] expected() {
        float[] data = new float[24];
        for (int i = 0; i < data.length; i++) {
            data[i] = (i - 3.5f) / 4;
        }
        return data;
    }

    @Test
    void readsWhatNumpySaves() throws IOException {
        for (String name : new String[] {"f32_1x4x2x3.npy", "f32_v2.npy"}) {
            FloatTensor t = Npy.read(fixture(name));
            assertArrayEquals(new long[] {1, 4, 2, 3}, t.shape(), name);
            assertArrayEquals(expected(), t.data(), name);
        }
        FloatTensor vector = Npy.read(fixture("f32_vector.npy"));
        assertArrayEquals(new long[] {3}, vector.shape());
        assertArrayEquals(new float[] {1.5f, -2, 3}, vector.data());
    }

    @Test
    void writesTheBytesNumpyWrites() throws IOException {
        assertArrayEquals(fixture("f32_1x4x2x3.npy"), Npy.write(new FloatTensor(new long[] {1, 4, 2, 3}, expected())));
        assertArrayEquals(fixture("f32_vector.npy"), Npy.write(new FloatTensor(new long[] {3}, new float[] {1.5f, -2, 3})));
    }

    @Test
    void rejectsOtherDtypesOrdersAndBrokenFilesWithAReason() throws IOException {
        byte[] f64 = fixture("f64.npy");
        byte[] bigEndian = fixture("f32_big_endian.npy");
        byte[] fortran = fixture("f32_fortran.npy");
        assertMessage("'<f8'", () -> Npy.read(f64));
        assertMessage("'>f4'", () -> Npy.read(bigEndian));
        assertMessage("Fortran order", () -> Npy.read(fortran));
        assertMessage("not a .npy file", () -> Npy.read("PK\u0003\u0004 a zip file".getBytes()));
        byte[] good = fixture("f32_1x4x2x3.npy");
        assertMessage("needs 96 bytes", () -> Npy.read(Arrays.copyOf(good, good.length - 4)));
        assertMessage("not a .npy file", () -> Npy.read(new byte[3]));
    }

    private static void assertMessage(String part, Runnable read) {
        MalformedTensorException e = assertThrows(MalformedTensorException.class, read::run);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
