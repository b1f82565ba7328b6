package dev.latentpipeline.model.family;

import java.util.function.Function;
import java.util.function.Predicate;

/** How one family recognises an export, and how it is made from it. */
record FamilyDetector(String name, Predicate<ExportConfigs> claims, Function<ExportConfigs, ModelFamily> create) {
}
