package dev.latentpipeline.api.upload;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.latentpipeline.api.ApiConfig;
import dev.latentpipeline.api.GatewayTestProfile;
import dev.latentpipeline.storage.ImageStore;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Npy;
import dev.latentpipeline.testing.RealInfrastructure;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.awt.Color;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * POST /v1/uploads: what is stored, under which key, and every refusal with its status, code and reason. The
 * img2img run from an upload is in WebPageBrowserTest, through the page.
 */
@QuarkusTest
@TestProfile(GatewayTestProfile.class)
@WithTestResource(RealInfrastructure.class)
class UploadsTest {
    private static final String KEY_PATTERN = "inputs/[0-9a-f-]{36}\\.%s";

    @Inject
    ImageStore store;
    @Inject
    ApiConfig api;

    private static RequestSpecification authed(String contentType) {
        return given().header("Authorization", "Bearer " + GatewayTestProfile.KEY).contentType(contentType);
    }

    @Test
    void anInitImageIsStoredUnderAFreshInputsKey() {
        byte[] png = TestImages.solid(64, 48, Color.RED, "png");
        JsonPath answer = authed("image/png").body(png).post("/v1/uploads").then().statusCode(201)
                .body("key", matchesPattern(KEY_PATTERN.formatted("png"))).body("field", equalTo("init_image"))
                .body("width", equalTo(64)).body("height", equalTo(48)).body("bytes", equalTo(png.length))
                .extract().jsonPath();
        assertArrayEquals(png, store.get(answer.getString("key")));
        // A JPEG, sent with a content type a browser might guess wrongly: the bytes decide.
        byte[] jpeg = TestImages.solid(32, 32, Color.BLUE, "jpg");
        String jpegKey = authed("application/octet-stream").body(jpeg).post("/v1/uploads").then().statusCode(201)
                .body("key", matchesPattern(KEY_PATTERN.formatted("jpg"))).body("content_type", equalTo("image/jpeg"))
                .extract().path("key");
        assertArrayEquals(jpeg, store.get(jpegKey));
        // Every upload gets its own key.
        String again = authed("image/png").body(png).post("/v1/uploads").then().statusCode(201).extract().path("key");
        assertEquals(false, again.equals(answer.getString("key")));
    }

    @Test
    void theOpenApiDocumentDescribesTheUpload() {
        given().get("/q/openapi?format=json").then().statusCode(200)
                .body("paths.'/v1/uploads'.post.responses.'201'.content.'application/json'.schema", notNullValue())
                .body("paths.'/v1/uploads'.post.requestBody.content", hasKey("image/png"))
                .body("paths.'/v1/uploads'.post.responses", hasKey("413"));
    }

    @Test
    void latentsAreStoredForTheLatentsField() {
        byte[] npy = Npy.write(new FloatTensor(new long[] {1, 4, 8, 8}, new float[4 * 8 * 8]));
        String key = authed("application/octet-stream").body(npy).post("/v1/uploads").then().statusCode(201)
                .body("key", matchesPattern(KEY_PATTERN.formatted("npy"))).body("field", equalTo("latents"))
                .body("shape", equalTo(List.of(1, 4, 8, 8))).extract().path("key");
        assertArrayEquals(npy, store.get(key));
    }

    @Test
    void badUploadsAreRefusedWithTheirReason() {
        refused(new byte[0], 400, "invalid_upload", "is empty");
        refused("a red square".getBytes(StandardCharsets.UTF_8), 415, "unsupported_media_type",
                "must be a PNG or JPEG image");
        byte[] truncated = TestImages.solid(16, 16, Color.GREEN, "png");
        refused(java.util.Arrays.copyOf(truncated, 12), 400, "invalid_upload", "is not a readable PNG image");
        refused(TestImages.pngHeaderOnly(5000, 5000), 400, "invalid_upload",
                "is 5000x5000; init images of at most 4096x4096 pixels are accepted");
        byte[] npy = Npy.write(new FloatTensor(new long[] {1, 4, 8, 8}, new float[256]));
        byte[] float64 = new String(npy, StandardCharsets.ISO_8859_1).replace("'<f4'", "'<f8'")
                .getBytes(StandardCharsets.ISO_8859_1);
        refused(float64, 400, "invalid_upload", "dtype is '<f8'");
        refused(new byte[api.maxUploadBytes() + 1], 413, "body_too_large", "must be at most "
                + api.maxUploadBytes() + " bytes");
        given().contentType("image/png").body(TestImages.solid(8, 8, Color.RED, "png")).post("/v1/uploads")
                .then().statusCode(401).body("code", equalTo("unauthorized"));
    }

    private void refused(byte[] body, int status, String code, String reason) {
        authed("application/octet-stream").body(body).post("/v1/uploads").then().statusCode(status)
                .contentType("application/problem+json").body("code", equalTo(code))
                .body("errors[0].field", equalTo("(body)")).body("errors[0].message", containsString(reason))
                .body("detail", containsString(reason));
    }

}
