package dev.latentpipeline.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RequestParserTest {
    /** A served model's part of the contract, as a family gives it. */
    record Model(String modelName, int defaultWidth, int defaultHeight, Set<String> honouredFields)
            implements RequestRules {
    }

    static final Model SD15 = new Model("SD 1.x", 512, 512, Set.of());
    static final Model SDXL = new Model("SDXL", 1024, 1024, Set.of("prompt_2", "negative_prompt_2",
            "original_size", "crops_coords_top_left", "target_size", "negative_original_size",
            "negative_crops_coords_top_left", "negative_target_size"));

    private final RequestParser parser = new RequestParser(new RequestLimits(1024, 768, 150, 8), SD15);
    private final RequestParser sdxl = new RequestParser(new RequestLimits(1024, 1024, 150, 8), SDXL);

    private RequestParser.Outcome parse(String key, String json) {
        return parser.parse(key, json.getBytes(StandardCharsets.UTF_8));
    }

    private PipelineException rejected(String key, String json, String expectedId) {
        RequestParser.Rejected r = assertInstanceOf(RequestParser.Rejected.class, parse(key, json));
        assertEquals(expectedId, r.requestId());
        return r.error();
    }

    @Test
    void fillsSd15DefaultsFromTheSchemaAndChoosesASeed() {
        GenerationRequest r = assertInstanceOf(RequestParser.Accepted.class, parse("k1", "{\"prompt\":\"a cat\"}"))
                .request();
        assertEquals("k1", r.id());
        // Absent stays absent (SDXL tells it apart from ""); SD encodes "" for it.
        assertNull(r.negativePrompt());
        assertEquals(512, r.width());
        assertEquals(512, r.height());
        assertEquals(50, r.steps());
        assertEquals(7.5, r.guidanceScale());
        assertEquals(1, r.numImages());
        assertNull(r.scheduler());
        assertTrue(r.seed() >= 0 && r.seed() <= 0xFFFF_FFFFL);
    }

    @Test
    void bodyIdWinsAndMissingIdIsGenerated() {
        GenerationRequest withId = assertInstanceOf(RequestParser.Accepted.class,
                parse("key", "{\"id\":\"job-7\",\"prompt\":\"x\",\"seed\":42}")).request();
        assertEquals("job-7", withId.id());
        assertEquals(42, withId.seed());
        GenerationRequest generated = assertInstanceOf(RequestParser.Accepted.class,
                parse(null, "{\"prompt\":\"x\"}")).request();
        assertNotNull(generated.id());
        assertEquals(36, generated.id().length());
    }

    @Test
    void seedsOfLaterImagesWrapIntoNumpysRange() {
        GenerationRequest r = assertInstanceOf(RequestParser.Accepted.class,
                parse("k", "{\"prompt\":\"x\",\"seed\":4294967295,\"num_images\":2}")).request();
        assertEquals(4294967295L, r.seedOf(0));
        assertEquals(0L, r.seedOf(1));
    }

    @Test
    void notJsonIsInvalidJsonWithTheKeyAsId() {
        assertEquals(ErrorCode.INVALID_JSON, rejected("req-1", "this is not json", "req-1").code());
        assertEquals(ErrorCode.INVALID_JSON, rejected("req-2", "[1,2]", "req-2").code());
        assertEquals(ErrorCode.INVALID_JSON, rejected("req-3", "{\"prompt\":\"a\"} trailing", "req-3").code());
    }

    @Test
    void withoutKeyOrIdTheRejectionHasNoId() {
        assertNull(assertInstanceOf(RequestParser.Rejected.class, parse(null, "{{{")).requestId());
        assertNull(assertInstanceOf(RequestParser.Rejected.class, parse(null, "{\"width\":3}")).requestId());
    }

    @Test
    void schemaViolationsNameEachField() {
        PipelineException e = rejected("r", "{\"width\":500,\"steps\":0,\"scheduler\":\"warp\"}", "r");
        assertEquals(ErrorCode.INVALID_REQUEST, e.code());
        java.util.Set<String> fields = new java.util.HashSet<>();
        e.fields().forEach(f -> fields.add(f.field()));
        assertEquals(java.util.Set.of("prompt", "width", "steps", "scheduler"), fields);
        assertTrue(e.getMessage().contains("width"), e.getMessage());
    }

    @Test
    void wrongTypesAndUnknownFieldsAreRejected() {
        assertEquals("steps", rejected("r", "{\"prompt\":\"x\",\"steps\":\"ten\"}", "r").fields().get(0).field());
        assertEquals(ErrorCode.INVALID_REQUEST, rejected("r", "{\"prompt\":\"x\",\"sampler\":\"euler\"}", "r").code());
    }

    @Test
    void hugePromptIsRejectedWithoutEchoingIt() {
        String prompt = "a".repeat(1_000_000);
        PipelineException e = rejected("big", "{\"prompt\":\"" + prompt + "\"}", "big");
        assertEquals("prompt", e.fields().get(0).field());
        assertTrue(e.getMessage().length() < 500, "message should not carry the prompt");
    }

    @Test
    void deploymentLimitsApplyAfterTheSchema() {
        PipelineException e = rejected("r", "{\"prompt\":\"x\",\"height\":1024,\"steps\":151}", "r");
        assertEquals(ErrorCode.LIMIT_EXCEEDED, e.code());
        assertEquals(2, e.fields().size());
        assertEquals(ErrorCode.INVALID_REQUEST, rejected("r", "{\"prompt\":\"x\",\"steps\":100000}", "r").code());
    }

    @Test
    void normalizedJsonRoundTrips() {
        GenerationRequest r = assertInstanceOf(RequestParser.Accepted.class,
                parse("k", "{\"prompt\":\"été\",\"negative_prompt\":\"blur\",\"guidance_scale\":1.5,"
                        + "\"scheduler\":\"euler\",\"seed\":7,\"num_images\":3,\"width\":64,\"height\":128}"))
                .request();
        assertEquals(r, RequestParser.fromJson(RequestParser.toJson(r)));
    }

    @Test
    void anAbsentNegativePromptStaysAbsentAndAnEmptyOneStaysEmpty() {
        GenerationRequest absent = accepted(parser, "{\"prompt\":\"x\"}");
        GenerationRequest empty = accepted(parser, "{\"prompt\":\"x\",\"negative_prompt\":\"\"}");
        assertNull(absent.negativePrompt());
        assertEquals("", empty.negativePrompt());
        String json = RequestParser.toJson(absent);
        assertFalse(json.contains("negative_prompt"), json);
        assertTrue(RequestParser.toJson(empty).contains("\"negative_prompt\":\"\""));
        // The normalized form is parsed again downstream (the gateway forwards it): "absent" survives the trip.
        assertNull(accepted(parser, json).negativePrompt());
        assertEquals("", accepted(parser, RequestParser.toJson(empty)).negativePrompt());
    }

    @Test
    void theDefaultSizeIsTheServedModelsEachSideOnItsOwn() {
        GenerationRequest r = accepted(sdxl, "{\"prompt\":\"x\"}");
        assertEquals(1024, r.width());
        assertEquals(1024, r.height());
        GenerationRequest wide = accepted(sdxl, "{\"prompt\":\"x\",\"width\":512}");
        assertEquals(512, wide.width());
        assertEquals(1024, wide.height());
        assertEquals(512, accepted(parser, "{\"prompt\":\"x\"}").height());
    }

    @Test
    void sdxlFieldsParseInDiffusersOrderAndRoundTrip() {
        GenerationRequest r = accepted(sdxl, "{\"prompt\":\"x\",\"prompt_2\":\"y\",\"negative_prompt_2\":\"z\","
                + "\"original_size\":[768,512],\"crops_coords_top_left\":[16,8],\"target_size\":[1024,960],"
                + "\"negative_original_size\":[256,128],\"negative_crops_coords_top_left\":[0,4],"
                + "\"negative_target_size\":[64,32]}");
        assertEquals("y", r.prompt2());
        assertEquals("z", r.negativePrompt2());
        assertEquals(new GenerationRequest.Size(768, 512), r.originalSize());
        assertEquals(new GenerationRequest.Crop(16, 8), r.cropsCoordsTopLeft());
        assertEquals(new GenerationRequest.Size(1024, 960), r.targetSize());
        assertEquals(new GenerationRequest.Size(256, 128), r.negativeOriginalSize());
        assertEquals(new GenerationRequest.Crop(0, 4), r.negativeCropsCoordsTopLeft());
        assertEquals(new GenerationRequest.Size(64, 32), r.negativeTargetSize());
        String json = RequestParser.toJson(r);
        assertTrue(json.contains("\"original_size\":[768,512]"), json);
        assertTrue(json.contains("\"crops_coords_top_left\":[16,8]"), json);
        assertEquals(r, RequestParser.fromJson(json));
        assertEquals(r.withScheduler("euler").originalSize(), r.originalSize());
        assertEquals(r.withScheduler("euler").negativeTargetSize(), r.negativeTargetSize());
    }

    @Test
    void badTimeIdsAreRefusedByTheSchema() {
        for (String bad : List.of("[1024]", "[1024,1024,3]", "[0,1024]", "[\"a\",2]", "{\"height\":1,\"width\":2}")) {
            PipelineException e = assertInstanceOf(RequestParser.Rejected.class, sdxl.parse("r",
                    ("{\"prompt\":\"x\",\"original_size\":" + bad + "}").getBytes(StandardCharsets.UTF_8))).error();
            assertEquals(ErrorCode.INVALID_REQUEST, e.code(), bad);
            assertTrue(e.fields().get(0).field().startsWith("original_size"), bad + ": " + e.fields());
        }
        PipelineException crop = assertInstanceOf(RequestParser.Rejected.class, sdxl.parse("r",
                "{\"prompt\":\"x\",\"crops_coords_top_left\":[-1,0]}".getBytes(StandardCharsets.UTF_8))).error();
        assertEquals("crops_coords_top_left.0", crop.fields().get(0).field());
    }

    @Test
    void sdxlFieldsOnAnSdModelAreRefusedNamingEachField() {
        PipelineException e = rejected("r", "{\"prompt\":\"x\",\"prompt_2\":\"y\",\"target_size\":[8,8]}", "r");
        assertEquals(ErrorCode.INVALID_REQUEST, e.code());
        assertEquals(List.of("prompt_2", "target_size"), e.fields().stream().map(PipelineException.FieldError::field)
                .toList());
        assertTrue(e.getMessage().contains("SD 1.x"), e.getMessage());
    }

    private static GenerationRequest accepted(RequestParser p, String json) {
        return assertInstanceOf(RequestParser.Accepted.class, p.parse("k", json.getBytes(StandardCharsets.UTF_8)))
                .request();
    }
}
