package dev.latentpipeline.denoise;

import dev.latentpipeline.denoise.scheduler.NumpyRandomState;
import dev.latentpipeline.denoise.scheduler.SchedulerState;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.TensorWireCodec;
import dev.latentpipeline.wire.DenoiseCheckpoint;
import dev.latentpipeline.wire.RandomStateProto;
import dev.latentpipeline.wire.StageRecord;
import dev.latentpipeline.wire.TensorProto;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where an unfinished denoising loop stands after {@code stepsDone} steps: the latents, the scheduler's history
 * and each image's noise generator. Everything is float32 or exact integers, so a worker that continues from it
 * reaches the same latents bit for bit as one that never stopped.
 */
public record Checkpoint(int stepsDone, FloatTensor latents, SchedulerState scheduler,
        List<NumpyRandomState.State> noise, String worker, List<StageRecord> segments) {

    public Checkpoint(int stepsDone, FloatTensor latents, SchedulerState scheduler,
            List<NumpyRandomState.State> noise, String worker) {
        this(stepsDone, latents, scheduler, noise, worker, List.of());
    }

    public DenoiseCheckpoint toProto() {
        DenoiseCheckpoint.Builder proto = DenoiseCheckpoint.newBuilder()
                .setStepsDone(stepsDone)
                .setLatents(TensorWireCodec.encode("latents", latents))
                .putAllSchedulerNumbers(scheduler.numbers())
                .setWorker(worker)
                .setWrittenAtMs(System.currentTimeMillis())
                .addAllSegments(segments);
        scheduler.arrays().forEach((name, values) -> proto.addSchedulerArrays(
                TensorWireCodec.encode(name, new FloatTensor(new long[] {values.length}, values))));
        for (NumpyRandomState.State s : noise) {
            RandomStateProto.Builder r = RandomStateProto.newBuilder().setPos(s.pos()).setHasGauss(s.hasGauss())
                    .setCachedGauss(s.cachedGauss());
            for (int word : s.key()) {
                r.addKey(word);
            }
            proto.addNoise(r);
        }
        return proto.build();
    }

    public static Checkpoint fromProto(DenoiseCheckpoint proto) {
        Map<String, float[]> arrays = new LinkedHashMap<>();
        for (TensorProto t : proto.getSchedulerArraysList()) {
            arrays.put(t.getName(), TensorWireCodec.decode(t).data());
        }
        List<NumpyRandomState.State> noise = new ArrayList<>();
        for (RandomStateProto r : proto.getNoiseList()) {
            int[] key = r.getKeyList().stream().mapToInt(Integer::intValue).toArray();
            noise.add(new NumpyRandomState.State(key, r.getPos(), r.getHasGauss(), r.getCachedGauss()));
        }
        return new Checkpoint(proto.getStepsDone(), TensorWireCodec.decode(proto.getLatents()),
                new SchedulerState(arrays, proto.getSchedulerNumbersMap()), noise, proto.getWorker(),
                proto.getSegmentsList());
    }
}
