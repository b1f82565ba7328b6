package dev.latentpipeline.api.status;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.latentpipeline.api.GatewayTestProfile;
import dev.latentpipeline.pipeline.PipelineConfig;
import dev.latentpipeline.testing.RealInfrastructure;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * What a restarted (or another) gateway replica sees: a fresh store reading sd.events from the beginning holds the
 * same status as the running one, for a finished job and for one still running when it started.
 */
@QuarkusTest
@TestProfile(GatewayTestProfile.class)
@WithTestResource(RealInfrastructure.class)
class StatusStoreRebuildTest {
    @Inject
    PipelineConfig config;
    @Inject
    StatusStore live;

    private static String submit(String body) {
        return given().header("Authorization", "Bearer " + GatewayTestProfile.KEY).contentType("application/json")
                .body(body).post("/v1/generations").then().statusCode(202).extract().path("id");
    }

    private static void await(String what, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.onSpinWait();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    @Test
    void aFreshReplicaRebuildsEveryJobFromTheLog() {
        String finished = submit("{\"prompt\":\"red\",\"width\":16,\"height\":16,\"steps\":3}");
        await("completion", () -> live.get(finished).map(JobStatus::terminal).orElse(false));
        // Long enough to be still denoising when the replica has caught up and the cancel lands.
        String running = submit("{\"prompt\":\"blue\",\"width\":1024,\"height\":1024,\"steps\":150,\"num_images\":4}");
        await("denoising", () -> live.get(running).map(j -> "denoising".equals(j.status())).orElse(false));

        StatusStore replica = new StatusStore();
        replica.config = config;
        replica.bootstrapServers = RealInfrastructure.bootstrapServers();
        replica.start(null);
        try {
            await("the replica to catch up", replica::ready);
            assertEquals(live.get(finished).orElseThrow(), replica.get(finished).orElseThrow());
            assertEquals("denoising", replica.get(running).orElseThrow().status());
            // It keeps following the log: the job's end reaches the replica too.
            given().header("Authorization", "Bearer " + GatewayTestProfile.KEY).delete("/v1/generations/" + running)
                    .then().statusCode(202);
            await("the replica to see the cancel", () -> "cancelled".equals(
                    replica.get(running).orElseThrow().status()));
            assertEquals(live.get(running).orElseThrow(), replica.get(running).orElseThrow());
        } finally {
            replica.stop(null);
        }
    }
}
