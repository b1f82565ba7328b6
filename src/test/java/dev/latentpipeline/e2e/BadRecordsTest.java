package dev.latentpipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.latentpipeline.pipeline.GenerationRequest;
import dev.latentpipeline.pipeline.RequestParser;
import dev.latentpipeline.pipeline.StageMessages;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.TensorWireCodec;
import dev.latentpipeline.testing.RealInfrastructure;
import dev.latentpipeline.wire.StageMessage;
import dev.latentpipeline.wire.TensorProto;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The catalogue of bad records, written straight onto every stage's input topic as a misbehaving producer would:
 * garbage bytes, an unknown format version, a tensor whose shape and byte count disagree, NaN values, no key, a 10 MB
 * record. A record that names its request gets a failed event with a reason, never a completed one; each is followed
 * on the same partition by a valid request that must still complete (the stage is not stalled by it).
 */
@QuarkusTest
@WithTestResource(RealInfrastructure.class)
class BadRecordsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int PARTITIONS = 4;
    private static PipelineClient client;
    private static KafkaProducer<String, byte[]> producer;

    @BeforeAll
    static void connect() {
        client = new PipelineClient();
        producer = RealInfrastructure.producer();
    }

    @AfterAll
    static void disconnect() {
        client.close();
        producer.close();
    }

    /** A request id that the default partitioner puts on {@code partition}. */
    private static String idOn(int partition) {
        while (true) {
            String id = "bad-" + UUID.randomUUID();
            if (Utils.toPositive(Utils.murmur2(id.getBytes(StandardCharsets.UTF_8))) % PARTITIONS == partition) {
                return id;
            }
        }
    }

    private static GenerationRequest request(String id) {
        return new GenerationRequest(id, "red", "", 16, 16, 3, 7.5, "euler", 5, 1, null);
    }

    /** A well-formed sd.embeddings message for the built-in model (hidden size 32), its tensors replaceable. */
    private static StageMessage.Builder embeddings(String id) {
        FloatTensor embeds = FloatTensor.zeros(1, 77, 32);
        return StageMessages.builder(request(id))
                .addTensors(TensorWireCodec.encode("prompt_embeds", embeds))
                .addTensors(TensorWireCodec.encode("negative_prompt_embeds", embeds));
    }

    private static StageMessage.Builder latents(String id) {
        return StageMessages.builder(request(id)).addTensors(TensorWireCodec.encode("latents",
                FloatTensor.zeros(1, 4, 2, 2)));
    }

    private static TensorProto nan(String name, long... shape) {
        FloatTensor t = FloatTensor.zeros(shape);
        Arrays.fill(t.data(), Float.NaN);
        return TensorWireCodec.encode(name, t);
    }

    /** A tensor whose bytes are one float short of its shape. */
    private static TensorProto truncated(String name, long... shape) {
        TensorProto whole = TensorWireCodec.encode(name, FloatTensor.zeros(shape));
        return whole.toBuilder().setData(whole.getData().substring(0, whole.getData().size() - 4)).build();
    }

    static Stream<Arguments> badRecords() {
        byte[] garbage = {(byte) 0xFF, 0x00, 0x13, 0x37, (byte) 0x80};
        byte[] tenMegabytes = new byte[10 * 1024 * 1024];
        Arrays.fill(tenMegabytes, (byte) 'x');
        return Stream.of(
                Arguments.of("sd.requests", "garbage bytes", garbage, "invalid_json"),
                Arguments.of("sd.requests", "a 10 MB record", tenMegabytes, "invalid_json"),
                Arguments.of("sd.embeddings", "garbage bytes", garbage, "internal_error"),
                Arguments.of("sd.embeddings", "an unknown format version", (Object) null, "internal_error"),
                Arguments.of("sd.embeddings", "shape and byte count disagree", (Object) null, "model_error"),
                Arguments.of("sd.embeddings", "NaN embeddings", (Object) null, "model_error"),
                Arguments.of("sd.embeddings", "a 10 MB record", tenMegabytes, "internal_error"),
                Arguments.of("sd.latents", "garbage bytes", garbage, "internal_error"),
                Arguments.of("sd.latents", "an unknown format version", (Object) null, "internal_error"),
                Arguments.of("sd.latents", "shape and byte count disagree", (Object) null, "model_error"),
                Arguments.of("sd.latents", "NaN latents", (Object) null, "model_error"),
                Arguments.of("sd.latents", "a 10 MB record", tenMegabytes, "internal_error"));
    }

    /** The record's bytes for a case; {@code given} when the case is plain bytes. */
    private static byte[] record(String topic, String kind, String id, byte[] given) {
        if (given != null) {
            return given;
        }
        boolean unet = topic.equals("sd.embeddings");
        StageMessage.Builder message = unet ? embeddings(id) : latents(id);
        switch (kind) {
            case "an unknown format version" -> message.setFormatVersion(StageMessages.FORMAT_VERSION + 41);
            case "shape and byte count disagree" -> message.clearTensors().addTensors(unet
                    ? truncated("prompt_embeds", 1, 77, 32) : truncated("latents", 1, 4, 2, 2));
            case "NaN embeddings" -> message.clearTensors().addTensors(nan("prompt_embeds", 1, 77, 32))
                    .addTensors(nan("negative_prompt_embeds", 1, 77, 32));
            case "NaN latents" -> message.clearTensors().addTensors(nan("latents", 1, 4, 2, 2));
            default -> throw new IllegalArgumentException(kind);
        }
        return message.build().toByteArray();
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("badRecords")
    void aBadRecordFailsClearlyAndTheNextRequestOnItsPartitionCompletes(String topic, String kind, byte[] bytes,
            String code) throws Exception {
        int partition = Math.floorMod(kind.hashCode() + topic.hashCode(), PARTITIONS);
        String bad = idOn(partition);
        producer.send(new ProducerRecord<>(topic, partition, bad, record(topic, kind, bad, bytes))).get();
        JsonNode failed = client.awaitTerminal(bad, TIMEOUT);
        assertEquals("failed", failed.get("type").asText(), failed::toString);
        assertEquals(code, failed.get("error").get("code").asText(), failed::toString);
        assertTrue(failed.get("error").get("message").asText().length() < 2000, "a reason, not a dump");
        assertNext(partition);
    }

    @Test
    void recordsWithoutAKeyAreSkippedOnEveryTopic() throws Exception {
        for (String topic : new String[] {"sd.requests", "sd.embeddings", "sd.latents"}) {
            producer.send(new ProducerRecord<>(topic, 1, null, new byte[] {(byte) 0xFF, 0x00})).get();
        }
        assertNext(1);
    }

    /** A valid request on {@code partition} of sd.requests (and so of every topic) completes. */
    private static void assertNext(int partition) {
        String good = idOn(partition);
        client.submit(good, RequestParser.toJson(new GenerationRequest(good, "blue", "", 16, 16, 3, 7.5, "euler", 6,
                1, null)));
        JsonNode done = client.awaitTerminal(good, TIMEOUT);
        assertEquals("completed", done.get("type").asText(), done::toString);
    }
}
