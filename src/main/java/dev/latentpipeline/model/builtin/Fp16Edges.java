package dev.latentpipeline.model.builtin;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.latentpipeline.model.builtin.OnnxGraph.intAttr;

/**
 * Turns a float32 graph into one whose float inputs and outputs are float16, as {@code --fp16} exports declare
 * them: a Cast to float32 after each float input and a Cast to float16 before each float output. The arithmetic
 * inside stays float32 (ONNX Runtime's CPU provider lacks fp16 kernels for several of its operators), so what differs
 * from the fp32 model is the rounding of every value that crosses the session edge: latents, timesteps, embeddings,
 * predictions and pixels.
 */
final class Fp16Edges {
    private static final String SUFFIX = "_fp32";

    private Fp16Edges() {
    }

    static ModelProto convert(ModelProto model) {
        GraphProto graph = model.getGraph();
        GraphProto.Builder out = graph.toBuilder().clearNode().clearInput().clearOutput();
        Map<String, String> renamedInputs = new HashMap<>();
        List<NodeProto> head = new ArrayList<>();
        for (ValueInfoProto input : graph.getInputList()) {
            if (input.getType().getTensorType().getElemType() == DataType.FLOAT.getNumber()) {
                String inside = input.getName() + SUFFIX;
                renamedInputs.put(input.getName(), inside);
                head.add(cast(input.getName(), inside, DataType.FLOAT));
                out.addInput(withType(input, DataType.FLOAT16));
            } else {
                out.addInput(input);
            }
        }
        Map<String, String> renamedOutputs = new HashMap<>();
        List<NodeProto> tail = new ArrayList<>();
        for (ValueInfoProto output : graph.getOutputList()) {
            if (output.getType().getTensorType().getElemType() == DataType.FLOAT.getNumber()) {
                String inside = output.getName() + SUFFIX;
                renamedOutputs.put(output.getName(), inside);
                tail.add(cast(inside, output.getName(), DataType.FLOAT16));
                out.addOutput(withType(output, DataType.FLOAT16));
            } else {
                out.addOutput(output);
            }
        }
        out.addAllNode(head);
        for (NodeProto node : graph.getNodeList()) {
            NodeProto.Builder b = node.toBuilder();
            for (int i = 0; i < b.getInputCount(); i++) {
                b.setInput(i, renamedInputs.getOrDefault(b.getInput(i), b.getInput(i)));
            }
            for (int i = 0; i < b.getOutputCount(); i++) {
                b.setOutput(i, renamedOutputs.getOrDefault(b.getOutput(i), b.getOutput(i)));
            }
            out.addNode(b);
        }
        out.addAllNode(tail);
        return model.toBuilder().setGraph(out).setDocString(model.getDocString()
                + " float16 inputs and outputs (Cast at the edges).").build();
    }

    private static NodeProto cast(String from, String to, DataType type) {
        return NodeProto.newBuilder().setOpType("Cast").setName(to + "_cast").addInput(from).addOutput(to)
                .addAttribute(intAttr("to", type.getNumber())).build();
    }

    private static ValueInfoProto withType(ValueInfoProto value, DataType type) {
        ValueInfoProto.Builder b = value.toBuilder();
        b.getTypeBuilder().getTensorTypeBuilder().setElemType(type.getNumber());
        return b.build();
    }
}
