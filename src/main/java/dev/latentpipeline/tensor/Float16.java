package dev.latentpipeline.tensor;

import ai.onnxruntime.platform.Fp16Conversions;

/** IEEE 754 binary16 conversions (round to nearest even), via ONNX Runtime's own implementation. */
public final class Float16 {
    private Float16() {
    }

    public static short fromFloat(float value) {
        return Fp16Conversions.floatToFp16(value);
    }

    public static float toFloat(short bits) {
        return Fp16Conversions.fp16ToFloat(bits);
    }
}
