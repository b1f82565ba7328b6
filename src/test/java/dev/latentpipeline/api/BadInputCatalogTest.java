package dev.latentpipeline.api;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentpipeline.testing.RealInfrastructure;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad HTTP input, each with the exact status, problem code and offending field it must get; and the in-flight bound
 * answering 429 under a flood. Every answer is an RFC 9457 problem document without a stack trace.
 */
@QuarkusTest
@TestProfile(GatewayTestProfile.class)
@WithTestResource(RealInfrastructure.class)
class BadInputCatalogTest {
    private static final String AUTH = "Bearer " + GatewayTestProfile.KEY;
    private static final String JSON = "application/json";
    /** A completed job some cases need, made once. */
    private static String done;

    /** One bad request: headers besides the defaults (Authorization, Content-Type: JSON) override or remove them. */
    record Case(String name, String method, String path, Map<String, String> headers, String body, int status,
            String code, String field) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Case post(String name, String body, int status, String code, String field) {
        return new Case(name, "POST", "/v1/generations", Map.of(), body, status, code, field);
    }

    private static Case field(String name, String body, String field) {
        return post(name, body, 400, "invalid_request", field);
    }

    static Stream<Case> catalog() {
        String cb = "{\"prompt\":\"x\",\"callback_url\":\"%s\"}";
        return Stream.of(
                post("malformed JSON", "{\"prompt\":", 400, "invalid_json", "(body)"),
                post("JSON array", "[1,2]", 400, "invalid_json", "(body)"),
                post("empty body", "", 400, "invalid_json", "(body)"),
                post("JSON string", "\"a red square\"", 400, "invalid_json", "(body)"),
                post("trailing garbage", "{\"prompt\":\"x\"} x", 400, "invalid_json", "(body)"),
                field("missing prompt", "{}", "prompt"),
                field("prompt a number", "{\"prompt\":5}", "prompt"),
                field("prompt too long", "{\"prompt\":\"" + "a".repeat(5000) + "\"}", "prompt"),
                field("negative prompt too long", "{\"prompt\":\"x\",\"negative_prompt\":\"" + "b".repeat(5000)
                        + "\"}", "negative_prompt"),
                field("width a string", "{\"prompt\":\"x\",\"width\":\"64\"}", "width"),
                field("width not a multiple of 8", "{\"prompt\":\"x\",\"width\":100}", "width"),
                field("width zero", "{\"prompt\":\"x\",\"width\":0}", "width"),
                field("height over the schema bound", "{\"prompt\":\"x\",\"height\":5000}", "height"),
                field("steps zero", "{\"prompt\":\"x\",\"steps\":0}", "steps"),
                field("steps over the schema bound", "{\"prompt\":\"x\",\"steps\":1001}", "steps"),
                field("steps fractional", "{\"prompt\":\"x\",\"steps\":1.5}", "steps"),
                field("guidance negative", "{\"prompt\":\"x\",\"guidance_scale\":-1}", "guidance_scale"),
                field("guidance a word", "{\"prompt\":\"x\",\"guidance_scale\":\"high\"}", "guidance_scale"),
                field("unknown scheduler", "{\"prompt\":\"x\",\"scheduler\":\"warp_drive\"}", "scheduler"),
                field("seed negative", "{\"prompt\":\"x\",\"seed\":-1}", "seed"),
                field("seed past 2^32", "{\"prompt\":\"x\",\"seed\":4294967296}", "seed"),
                field("no images", "{\"prompt\":\"x\",\"num_images\":0}", "num_images"),
                field("too many images", "{\"prompt\":\"x\",\"num_images\":17}", "num_images"),
                field("unknown property", "{\"prompt\":\"x\",\"cfg\":7}", "cfg"),
                field("bad id", "{\"prompt\":\"x\",\"id\":\"-starts-with-dash\"}", "id"),
                post("steps over this deployment's limit", "{\"prompt\":\"x\",\"steps\":151}", 400,
                        "limit_exceeded", "steps"),
                post("width over this deployment's limit", "{\"prompt\":\"x\",\"width\":2048}", 400,
                        "limit_exceeded", "width"),
                field("callback not http", cb.formatted("ftp://example.com/hook"), "callback_url"),
                field("callback private 10/8", cb.formatted("http://10.1.2.3/hook"), "callback_url"),
                field("callback private 192.168/16", cb.formatted("http://192.168.0.10/hook"), "callback_url"),
                field("callback private 172.16/12", cb.formatted("http://172.20.0.1:8080/hook"), "callback_url"),
                field("callback cloud metadata", cb.formatted("http://169.254.169.254/latest/meta-data"),
                        "callback_url"),
                field("callback IPv6 link-local", cb.formatted("http://[fe80::1]/hook"), "callback_url"),
                field("callback IPv6 unique-local", cb.formatted("http://[fd00::1]/hook"), "callback_url"),
                field("callback unspecified address", cb.formatted("http://0.0.0.0:9/hook"), "callback_url"),
                field("callback IPv4-mapped private", cb.formatted("http://[::ffff:10.0.0.1]/hook"),
                        "callback_url"),
                field("callback with credentials", cb.formatted("http://user:pw@127.0.0.1/hook"), "callback_url"),
                post("huge body", "{\"prompt\":\"" + "x".repeat(100_000) + "\"}", 413, "body_too_large", "(body)"),
                new Case("text/plain body", "POST", "/v1/generations", Map.of("Content-Type", "text/plain"),
                        "{\"prompt\":\"x\"}", 415, "unsupported_media_type", "Content-Type"),
                new Case("XML body", "POST", "/v1/generations", Map.of("Content-Type", "application/xml"),
                        "<prompt>x</prompt>", 415, "unsupported_media_type", "Content-Type"),
                new Case("Idempotency-Key with a space", "POST", "/v1/generations",
                        Map.of("Idempotency-Key", "a b"), "{\"prompt\":\"x\"}", 400, "invalid_header",
                        "Idempotency-Key"),
                new Case("Idempotency-Key too long", "POST", "/v1/generations",
                        Map.of("Idempotency-Key", "k".repeat(256)), "{\"prompt\":\"x\"}", 400, "invalid_header",
                        "Idempotency-Key"),
                new Case("no API key", "POST", "/v1/generations", Map.of("Authorization", ""),
                        "{\"prompt\":\"x\"}", 401, "unauthorized", "Authorization"),
                new Case("wrong API key", "GET", "/v1/generations", Map.of("Authorization", "Bearer nope"), null,
                        401, "unauthorized", "Authorization"),
                new Case("Basic instead of Bearer", "GET", "/v1/generations",
                        Map.of("Authorization", "Basic dGVzdDp0ZXN0"), null, 401, "unauthorized", "Authorization"),
                new Case("id not an id", "GET", "/v1/generations/-x", Map.of(), null, 400, "invalid_parameter",
                        "id"),
                new Case("unknown id", "GET", "/v1/generations/no-such-job", Map.of(), null, 404, "not_found",
                        null),
                new Case("events of an unknown id", "GET", "/v1/generations/no-such-job/events", Map.of(), null,
                        404, "not_found", null),
                new Case("image index not a number", "GET", "/v1/generations/{done}/images/first", Map.of(), null,
                        400, "invalid_parameter", "n"),
                new Case("image index out of range", "GET", "/v1/generations/{done}/images/3", Map.of(), null,
                        404, "not_found", null),
                new Case("limit zero", "GET", "/v1/generations?limit=0", Map.of(), null, 400,
                        "invalid_parameter", "limit"),
                new Case("limit a word", "GET", "/v1/generations?limit=many", Map.of(), null, 400,
                        "invalid_parameter", "limit"),
                new Case("limit too large", "GET", "/v1/generations?limit=101", Map.of(), null, 400,
                        "invalid_parameter", "limit"),
                new Case("cursor forged", "GET", "/v1/generations?cursor=bm90LWEtY3Vyc29y", Map.of(), null, 400,
                        "invalid_parameter", "cursor"),
                new Case("status filter unknown", "GET", "/v1/generations?status=done", Map.of(), null, 400,
                        "invalid_parameter", "status"),
                new Case("cancel an unknown id", "DELETE", "/v1/generations/no-such-job", Map.of(), null, 404,
                        "not_found", null),
                new Case("cancel a completed job", "DELETE", "/v1/generations/{done}", Map.of(), null, 409,
                        "already_finished", "id"),
                new Case("wrong method", "PUT", "/v1/generations", Map.of(), "{}", 405, "method_not_allowed",
                        null));
    }

    private static synchronized String completedJob() {
        if (done == null) {
            done = Api.submit("{\"prompt\":\"red\",\"width\":8,\"height\":8,\"steps\":1}");
            assertEquals("completed", Api.awaitTerminal(done, Duration.ofSeconds(60)).getString("status"));
        }
        return done;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalog")
    void badInputGetsAProblemDocument(Case c) {
        String path = c.path().contains("{done}") ? c.path().replace("{done}", completedJob()) : c.path();
        RequestSpecification request = given().contentType(JSON);
        if (!c.headers().containsKey("Authorization")) {
            request.header("Authorization", AUTH);
        }
        for (Map.Entry<String, String> h : c.headers().entrySet()) {
            if (h.getKey().equals("Content-Type")) {
                request.contentType(h.getValue());
            } else if (!h.getValue().isEmpty()) {
                request.header(h.getKey(), h.getValue());
            }
        }
        if (c.body() != null) {
            request.body(c.body());
        }
        Response response = request.request(c.method(), path);
        String text = response.asString();
        assertEquals(c.status(), response.statusCode(), text);
        assertTrue(response.contentType().startsWith("application/problem+json"), response.contentType());
        assertEquals(c.status(), response.jsonPath().getInt("status"));
        assertEquals(c.code(), response.jsonPath().getString("code"), text);
        if (c.field() != null) {
            List<String> fields = response.jsonPath().getList("errors.field");
            assertTrue(fields.contains(c.field()), "expected field " + c.field() + " in " + text);
        }
        assertFalse(text.contains("Exception") || text.contains("\tat "), "no stack traces: " + text);
        if (c.status() == 401) {
            assertEquals("Bearer", response.header("WWW-Authenticate"));
        }
    }

    @Test
    void catalogIsLargeEnough() {
        assertTrue(catalog().count() >= 30);
    }

    @Test
    void aFloodGets429WithRetryAfterInsteadOfQueueingWithoutLimit() {
        List<String> accepted = new ArrayList<>();
        Response refused = null;
        for (int i = 0; i < GatewayTestProfile.MAX_IN_FLIGHT * 3 && refused == null; i++) {
            Response r = given().header("Authorization", AUTH).contentType(JSON)
                    .body("{\"prompt\":\"grey\",\"width\":512,\"height\":512,\"steps\":150,\"num_images\":4}")
                    .post("/v1/generations");
            if (r.statusCode() == 202) {
                accepted.add(r.jsonPath().getString("id"));
            } else {
                refused = r;
            }
        }
        try {
            assertTrue(refused != null, "no 429 after " + accepted.size() + " long jobs");
            assertEquals(429, refused.statusCode(), refused.asString());
            assertEquals("too_busy", refused.jsonPath().getString("code"));
            assertTrue(Integer.parseInt(refused.header("Retry-After")) >= 1);
            assertTrue(accepted.size() <= GatewayTestProfile.MAX_IN_FLIGHT, "accepted " + accepted.size());
        } finally {
            accepted.forEach(id -> given().header("Authorization", AUTH).delete("/v1/generations/" + id));
            accepted.forEach(id -> assertEquals("cancelled",
                    Api.awaitTerminal(id, Duration.ofSeconds(90)).getString("status")));
        }
    }
}
