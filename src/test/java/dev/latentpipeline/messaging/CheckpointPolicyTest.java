package dev.latentpipeline.messaging;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CheckpointPolicyTest {
    @Test
    void policyStepsAndNever() {
        CheckpointPolicy every4 = CheckpointPolicy.parse("4");
        assertFalse(every4.due(0, 3, 20));
        assertTrue(every4.due(0, 4, 20));
        assertFalse(every4.due(4, 7, 20));
        assertTrue(every4.due(4, 8, 20));
        assertFalse(every4.due(16, 20, 20), "the last step finishes: no checkpoint");
        assertFalse(CheckpointPolicy.parse("never").due(0, 5, 20));
        assertFalse(CheckpointPolicy.parse("0").enabled());
        assertThrows(IllegalArgumentException.class, () -> CheckpointPolicy.parse("often"));
        assertThrows(IllegalArgumentException.class, () -> CheckpointPolicy.parse("-2"));
    }
}
