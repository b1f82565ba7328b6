package dev.latentpipeline.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * numpy's .npy format (format versions 1.0 to 3.0), for float32 little-endian C-order arrays only: what
 * {@code np.save(f, latents.astype('<f4'))} writes. The format is a magic string, a version, a header length and a
 * Python dict literal {@code {'descr': '<f4', 'fortran_order': False, 'shape': (1, 4, 64, 64), }} padded to a
 * multiple of 64 bytes, then the raw data (numpy/lib/format.py). Anything else is rejected with a reason.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    /** Native-endian float32 on a little-endian machine is written '<f4'; '=f4' is not written by numpy. */
    private static final String FLOAT32_LE = "<f4";

    private Npy() {
    }

    /** Parses a .npy file into a tensor; a {@link MalformedTensorException} says what is wrong with it. */
    public static FloatTensor read(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < MAGIC.length + 4) {
            throw new MalformedTensorException("not a .npy file: only " + bytes.length + " bytes");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) {
                throw new MalformedTensorException("not a .npy file: it does not start with \\x93NUMPY");
            }
        }
        int major = bytes[6] & 0xFF;
        in.position(8);
        long headerLength;
        if (major == 1) {
            headerLength = in.getShort() & 0xFFFF;
        } else if (major == 2 || major == 3) {
            headerLength = in.getInt() & 0xFFFF_FFFFL;
        } else {
            throw new MalformedTensorException(".npy format version " + major + " is not supported (1 to 3 are)");
        }
        if (headerLength > bytes.length - in.position()) {
            throw new MalformedTensorException(".npy header is longer than the file");
        }
        // Version 3 allows UTF-8 in the header (field names); Latin-1 for 1 and 2. Only ASCII matters here.
        String header = new String(bytes, in.position(), (int) headerLength,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        int dataStart = in.position() + (int) headerLength;

        String descr = group(DESCR, header, "descr");
        if (!descr.equals(FLOAT32_LE)) {
            throw new MalformedTensorException("dtype is '" + descr + "', expected float32 little-endian ('<f4'):"
                    + " save with arr.astype('<f4')");
        }
        if (group(FORTRAN, header, "fortran_order").equals("True")) {
            throw new MalformedTensorException("array is in Fortran order, expected C order:"
                    + " save np.ascontiguousarray(arr)");
        }
        long[] shape = parseShape(group(SHAPE, header, "shape"));
        long count;
        try {
            count = FloatTensor.elementCount(shape);
        } catch (ArithmeticException e) {
            throw new MalformedTensorException("shape is too large");
        }
        if (count * 4 != bytes.length - (long) dataStart) {
            throw new MalformedTensorException("shape " + describe(shape) + " needs " + count * 4
                    + " bytes of data, the file has " + (bytes.length - dataStart));
        }
        float[] data = new float[Math.toIntExact(count)];
        in.position(dataStart);
        in.asFloatBuffer().get(data);
        return new FloatTensor(shape, data);
    }

    /** The tensor as a version 1.0 .npy file, as {@code np.save} writes a float32 C-order array. */
    public static byte[] write(FloatTensor tensor) {
        String dict = "{'descr': '" + FLOAT32_LE + "', 'fortran_order': False, 'shape': " + describe(tensor.shape())
                + ", }";
        // Header (magic, version, length, dict, padding, newline) is a multiple of 64 bytes.
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        int padding = (64 - unpadded % 64) % 64;
        String header = dict + " ".repeat(padding) + "\n";
        float[] data = tensor.data();
        ByteBuffer out = ByteBuffer.allocate(MAGIC.length + 4 + header.length() + data.length * 4)
                .order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
        out.put(header.getBytes(StandardCharsets.ISO_8859_1));
        out.asFloatBuffer().put(data);
        return out.array();
    }

    /** A shape the way numpy prints it: (), (3,), (1, 4, 8, 8). */
    public static String describe(long[] shape) {
        if (shape.length == 1) {
            return "(" + shape[0] + ",)";
        }
        List<String> dims = new ArrayList<>();
        for (long d : shape) {
            dims.add(Long.toString(d));
        }
        return "(" + String.join(", ", dims) + ")";
    }

    private static String group(Pattern pattern, String header, String key) {
        Matcher m = pattern.matcher(header);
        if (!m.find()) {
            throw new MalformedTensorException(".npy header lacks a readable '" + key + "': " + header.strip());
        }
        return m.group(1);
    }

    private static long[] parseShape(String text) {
        List<Long> dims = new ArrayList<>();
        for (String part : text.split(",")) {
            String d = part.strip().toUpperCase(Locale.ROOT);
            if (d.endsWith("L")) {
                d = d.substring(0, d.length() - 1); // Python 2 longs in old files
            }
            if (d.isEmpty()) {
                continue;
            }
            try {
                long value = Long.parseLong(d);
                if (value < 0) {
                    throw new NumberFormatException();
                }
                dims.add(value);
            } catch (NumberFormatException e) {
                throw new MalformedTensorException(".npy shape (" + text + ") is not a tuple of sizes");
            }
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }
}
