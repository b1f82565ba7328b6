package dev.latentpipeline.api;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;

/** What an HTTP client of the gateway does, with the test API key. */
final class Api {
    static final Set<String> TERMINAL = Set.of("completed", "failed", "cancelled");

    private Api() {
    }

    static RequestSpecification authed() {
        return given().header("Authorization", "Bearer " + GatewayTestProfile.KEY);
    }

    static String submit(String body) {
        return authed().contentType(ContentType.JSON).body(body).post("/v1/generations")
                .then().statusCode(202).extract().path("id");
    }

    static JsonPath status(String id) {
        return authed().get("/v1/generations/" + id).then().statusCode(200).extract().jsonPath();
    }

    /** Polls the status until the job ends; the gateway's state follows sd.events within milliseconds. */
    static JsonPath awaitTerminal(String id, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonPath status = status(id);
            if (TERMINAL.contains(status.getString("status"))) {
                return status;
            }
            assertTrue(System.nanoTime() < deadline, "generation " + id + " did not end in " + timeout + ": "
                    + status.prettify());
            sleepBriefly();
        }
    }

    static void sleepBriefly() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static String newId() {
        return "h-" + UUID.randomUUID();
    }
}
