package dev.latentpipeline.model.builtin;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;

import java.io.ByteArrayOutputStream;

/**
 * Moves a model's large initializers into one external data file beside it, the way optimum saves models over 2 GB
 * ({@code onnx.save(..., save_as_external_data=True, all_tensors_to_one_file=True, location="model.onnx_data",
 * size_threshold=1024)}): each tensor of at least 1024 bytes keeps its name, type and dims, and points at
 * (location, offset, length) in the data file, in initializer order; smaller ones stay inline.
 */
final class ExternalData {
    static final String LOCATION = "model.onnx_data";
    static final int SIZE_THRESHOLD = 1024;

    /** The model with external references, and the bytes of the data file they point into. */
    record Split(ModelProto model, byte[] data) {
    }

    private ExternalData() {
    }

    static Split split(ModelProto model) {
        GraphProto.Builder graph = model.getGraph().toBuilder();
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            TensorProto tensor = graph.getInitializer(i);
            if (tensor.getRawData().size() < SIZE_THRESHOLD) {
                continue;
            }
            long offset = data.size();
            data.writeBytes(tensor.getRawData().toByteArray());
            graph.setInitializer(i, tensor.toBuilder().clearRawData()
                    .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(entry("location", LOCATION))
                    .addExternalData(entry("offset", Long.toString(offset)))
                    .addExternalData(entry("length", Integer.toString(tensor.getRawData().size()))));
        }
        return new Split(model.toBuilder().setGraph(graph).build(), data.toByteArray());
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }
}
