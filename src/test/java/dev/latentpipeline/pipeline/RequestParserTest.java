package dev.latentpipeline.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RequestParserTest {
    private final RequestParser parser = new RequestParser(new RequestLimits(1024, 768, 150, 8));

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
        assertEquals("", r.negativePrompt());
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
}
