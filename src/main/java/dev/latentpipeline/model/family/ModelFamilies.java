package dev.latentpipeline.model.family;

import dev.latentpipeline.model.ModelException;
import dev.latentpipeline.model.ModelLayout;
import java.util.List;
import java.util.TreeSet;

/**
 * Recognises an export's family from its files: model_index.json's {@code _class_name} where it has one (diffusers,
 * optimum), else its layout (text_encoder_2/, the UNet config's addition_embed_type). Nothing is configured by hand.
 * A new family is one more {@link FamilyDetector} here, most specific first.
 */
public final class ModelFamilies {
    static final List<FamilyDetector> DETECTORS = List.of(SdxlFamily.DETECTOR, Sd2Family.DETECTOR, Sd1Family.DETECTOR);

    private ModelFamilies() {
    }

    public static ModelFamily detect(ModelLayout layout) {
        ExportConfigs configs = ExportConfigs.read(layout);
        for (FamilyDetector detector : DETECTORS) {
            if (detector.claims().test(configs)) {
                return detector.create().apply(configs);
            }
        }
        TreeSet<String> known = new TreeSet<>(SdxlFamily.PIPELINES);
        known.addAll(StableDiffusionFamily.PIPELINES);
        throw new ModelException(layout.root() + "/model_index.json names the pipeline "
                + configs.pipelineClass().orElse("?") + ", which this pipeline does not run; it runs " + known);
    }
}
