package dev.latentpipeline.model.builtin;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;

import static dev.latentpipeline.model.builtin.OnnxGraph.intAttr;

/**
 * Text encoder: the mean RGB of the prompt's colour-word tokens (grey when there are none) in the first three
 * features of every position of last_hidden_state and of pooler_output; the other features are zero.
 */
final class TextEncoderGraph {
    private TextEncoderGraph() {
    }

    static ModelProto build(long[] colorTokenIds, float[][] colorRgb, BuiltinColors.Rgb noColor, int hidden, int length) {
        int k = colorTokenIds.length;
        float[] table = new float[k * 3];
        for (int i = 0; i < k; i++) {
            System.arraycopy(colorRgb[i], 0, table, 3 * i, 3);
        }
        // [3, hidden] = [I3 | 0]: places the colour in the first three features.
        float[] project = new float[3 * hidden];
        for (int i = 0; i < 3; i++) {
            project[i * hidden + i] = 1;
        }

        OnnxGraph g = new OnnxGraph("builtin_text_encoder");
        g.input("input_ids", DataType.INT32, "batch", length);
        String ids = g.op("Cast", intAttr("to", DataType.INT64.getNumber()),
                "input_ids");
        String ids3 = g.op("Unsqueeze", ids, g.longs("axis_2", 2));                       // [B, L, 1]
        String hits = g.op("Equal", ids3, g.longs("color_token_ids", colorTokenIds));     // [B, L, K]
        String hitsF = g.op("Cast", intAttr("to", DataType.FLOAT.getNumber()),
                hits);
        String counts = g.op("ReduceSum", intAttr("keepdims", 0),
                hitsF, g.longs("axis_1", 1));                                                  // [B, K]
        String rgbSum = g.op("MatMul", counts, g.floats("color_rgb", new long[] {k, 3}, table)); // [B, 3]
        String total = g.op("ReduceSum", intAttr("keepdims", 1),
                counts, "axis_1");                                                             // [B, 1]
        String mean = g.op("Div", rgbSum, g.op("Max", total, g.scalar("one", 1f)));
        String hasColor = g.op("Greater", total, g.scalar("zero", 0f));
        String grey = g.floats("no_color_rgb", new long[] {3}, noColor.r(), noColor.g(), noColor.b());
        String rgb = g.op("Where", hasColor, mean, grey);                                      // [B, 3]
        String pooled = g.op("MatMul", rgb, g.floats("rgb_to_hidden", new long[] {3, hidden}, project));
        String perPosition = g.op("Expand", g.op("Unsqueeze", pooled, "axis_1"),
                g.longs("positions_shape", 1, length, 1));                                     // [B, L, hidden]
        g.output(perPosition, "last_hidden_state", DataType.FLOAT, "batch", length, hidden);
        g.output(pooled, "pooler_output", DataType.FLOAT, "batch", hidden);
        return g.toModel("Built-in tiny CLIP text encoder: prompt colour in features 0..2.");
    }
}
