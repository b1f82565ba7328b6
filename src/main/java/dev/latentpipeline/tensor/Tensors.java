package dev.latentpipeline.tensor;

import java.util.Arrays;
import java.util.List;

/** Batch-axis operations the pipeline needs around model calls (guidance batches, per-image slices). */
public final class Tensors {
    private Tensors() {
    }

    /** Concatenates along axis 0; the other dimensions must agree. */
    public static FloatTensor concat(FloatTensor first, FloatTensor second) {
        long[] a = first.shape();
        long[] b = second.shape();
        if (!Arrays.equals(Arrays.copyOfRange(a, 1, a.length), Arrays.copyOfRange(b, 1, b.length))) {
            throw new IllegalArgumentException("cannot concatenate " + first + " and " + second);
        }
        float[] data = Arrays.copyOf(first.data(), first.data().length + second.data().length);
        System.arraycopy(second.data(), 0, data, first.data().length, second.data().length);
        long[] shape = a.clone();
        shape[0] = a[0] + b[0];
        return new FloatTensor(shape, data);
    }

    /** Repeats a tensor n times along axis 0: [1, ...] to [n, ...]. */
    public static FloatTensor repeat(FloatTensor tensor, int n) {
        float[] source = tensor.data();
        float[] data = new float[source.length * n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(source, 0, data, i * source.length, source.length);
        }
        long[] shape = tensor.shape();
        shape[0] = shape[0] * n;
        return new FloatTensor(shape, data);
    }

    /** Items [from, to) along axis 0, copied. */
    public static FloatTensor slice(FloatTensor tensor, int from, int to) {
        long[] shape = tensor.shape();
        int item = Math.toIntExact(tensor.data().length / shape[0]);
        shape[0] = to - from;
        return new FloatTensor(shape, Arrays.copyOfRange(tensor.data(), from * item, to * item));
    }

    /** A new tensor with every element x replaced by {@code scale * x + offset}. */
    public static FloatTensor affine(FloatTensor tensor, float scale, float offset) {
        float[] source = tensor.data();
        float[] data = new float[source.length];
        for (int i = 0; i < source.length; i++) {
            data[i] = source[i] * scale + offset;
        }
        return new FloatTensor(tensor.shape(), data);
    }

    /** A new tensor with every element multiplied by factor. */
    public static FloatTensor scale(FloatTensor tensor, float factor) {
        float[] source = tensor.data();
        float[] data = new float[source.length];
        for (int i = 0; i < source.length; i++) {
            data[i] = source[i] * factor;
        }
        return new FloatTensor(tensor.shape(), data);
    }

    /** Concatenates along axis 0; the other dimensions must agree. */
    public static FloatTensor concat(List<FloatTensor> parts) {
        if (parts.size() == 1) {
            return parts.get(0);
        }
        long[] first = parts.get(0).shape();
        long rows = 0;
        int length = 0;
        for (FloatTensor part : parts) {
            long[] s = part.shape();
            if (!Arrays.equals(Arrays.copyOfRange(s, 1, s.length), Arrays.copyOfRange(first, 1, first.length))) {
                throw new IllegalArgumentException("cannot concatenate " + parts.get(0) + " and " + part);
            }
            rows += s[0];
            length += part.data().length;
        }
        float[] data = new float[length];
        int at = 0;
        for (FloatTensor part : parts) {
            System.arraycopy(part.data(), 0, data, at, part.data().length);
            at += part.data().length;
        }
        first[0] = rows;
        return new FloatTensor(first, data);
    }

    /**
     * Concatenates along the last axis (torch.concat(parts, dim=-1)): SDXL's two text encoders' hidden states; the
     * other dimensions must agree.
     */
    public static FloatTensor concatLastAxis(List<FloatTensor> parts) {
        long[] lead = parts.get(0).shape();
        int rank = lead.length;
        long rows = FloatTensor.elementCount(Arrays.copyOf(lead, rank - 1));
        long total = 0;
        for (FloatTensor part : parts) {
            long[] s = part.shape();
            if (s.length != rank || !Arrays.equals(Arrays.copyOf(s, rank - 1), Arrays.copyOf(lead, rank - 1))) {
                throw new IllegalArgumentException("cannot concatenate " + parts.get(0) + " and " + part
                        + " on the last axis");
            }
            total += s[rank - 1];
        }
        float[] data = new float[Math.toIntExact(rows * total)];
        int offset = 0;
        for (FloatTensor part : parts) {
            int width = (int) part.shape()[rank - 1];
            float[] source = part.data();
            for (int r = 0; r < rows; r++) {
                System.arraycopy(source, r * width, data, (int) (r * total) + offset, width);
            }
            offset += width;
        }
        long[] shape = lead.clone();
        shape[rank - 1] = total;
        return new FloatTensor(shape, data);
    }

    /**
     * Fails when the tensor holds NaN or infinity, naming {@code what} and where the first such value is. A scan of
     * a few hundred kilobytes: cheap next to any model call.
     */
    public static FloatTensor requireFinite(FloatTensor tensor, String what) {
        float[] data = tensor.data();
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                int count = 0;
                for (float v : data) {
                    count += Float.isFinite(v) ? 0 : 1;
                }
                throw new NonFiniteTensorException(what + " " + Arrays.toString(tensor.shape()) + " holds " + count
                        + " NaN or infinite value(s) (the first at flat index " + i + ": " + data[i] + ")");
            }
        }
        return tensor;
    }
}
