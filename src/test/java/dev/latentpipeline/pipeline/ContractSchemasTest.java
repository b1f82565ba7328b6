package dev.latentpipeline.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.latentpipeline.denoise.scheduler.Schedulers;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The schemas in schemas/ and the code must name the same things. */
class ContractSchemasTest {

    @Test
    void requestSchemaOffersExactlyTheImplementedSchedulers() {
        JsonNode schedulers = ContractSchemas.read(ContractSchemas.REQUEST).at("/properties/scheduler/enum");
        List<String> names = new ArrayList<>();
        schedulers.forEach(n -> names.add(n.asText()));
        assertEquals(Schedulers.NAMES, names);
    }

    @Test
    void eventSchemaListsEveryErrorCode() {
        Set<String> codes = new HashSet<>();
        ContractSchemas.read(ContractSchemas.EVENT).at("/properties/error/properties/code/enum")
                .forEach(n -> codes.add(n.asText()));
        Set<String> implemented = new HashSet<>();
        for (ErrorCode code : ErrorCode.values()) {
            implemented.add(code.wireName());
        }
        assertEquals(implemented, codes);
    }
}
