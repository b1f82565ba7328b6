package dev.latentpipeline.tensor;

import java.util.Arrays;

/** A dense float32 tensor in row-major (C) order: the working type of every stage. */
public final class FloatTensor {
    private final long[] shape;
    private final float[] data;

    public FloatTensor(long[] shape, float[] data) {
        long count = elementCount(shape);
        if (count != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + count
                    + " elements, data has " + data.length);
        }
        this.shape = shape.clone();
        this.data = data;
    }

    public static FloatTensor zeros(long... shape) {
        return new FloatTensor(shape, new float[Math.toIntExact(elementCount(shape))]);
    }

    public static long elementCount(long[] shape) {
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, d);
        }
        return count;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int axis) {
        return shape[axis];
    }

    /** The backing array, shared, not copied: stages pass tensors along without copying. */
    public float[] data() {
        return data;
    }

    @Override
    public String toString() {
        return "FloatTensor" + Arrays.toString(shape);
    }
}
