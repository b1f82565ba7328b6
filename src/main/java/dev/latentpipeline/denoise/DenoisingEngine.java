package dev.latentpipeline.denoise;

import dev.latentpipeline.model.OnnxModel;
import dev.latentpipeline.tensor.FloatTensor;
import dev.latentpipeline.tensor.Tensors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.IntConsumer;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Continuous, step-level batching of denoising jobs on one UNet: at every step, the jobs whose latents and text
 * conditioning have the same shapes share one UNet call, each at its own timestep where the export takes one per
 * row ({@code timestep [batch]}), and jobs at the same timestep together where it takes one per call. Guided and
 * unguided jobs, different guidance scales, schedulers and step counts mix freely: each job keeps its scheduler,
 * noise and latents, and applies guidance and its scheduler step to its own rows. A job joins at the next step
 * boundary and leaves as soon as it finishes, is cancelled, fails or hands on, without waiting for the others.
 *
 * <p>It holds at most {@code maxJobs} jobs (reserved by {@link #tryReserve} before a job is prepared) and puts at
 * most {@code maxRows} rows into one call (a single larger job runs alone). The text conditioning of a call is
 * converted for ONNX Runtime once and reused for as long as the call's jobs stay the same.
 */
public final class DenoisingEngine implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DenoisingEngine.class);

    private final UNet unet;
    private volatile int maxJobs;
    private final String worker;
    private final ConcurrentLinkedQueue<DenoisingJob> joining = new ConcurrentLinkedQueue<>();
    /** Engine thread only. */
    private final List<DenoisingJob> active = new ArrayList<>();
    private final Map<List<DenoisingJob>, Map<String, OnnxModel.PreparedInput>> prepared = new HashMap<>();
    /** Guarded by this: jobs reserved, being prepared, joining or active. */
    private int held;
    private Thread thread;
    private volatile boolean closed;
    /** Told the number of jobs of every UNet call (a metric); nothing by default. */
    private volatile IntConsumer callSizes = size -> { };

    /**
     * @param maxJobs jobs held at once (sd.unet.max-batch; 1 turns batching off)
     * @param worker names this worker in checkpoints
     */
    public DenoisingEngine(UNet unet, int maxJobs, String worker) {
        if (maxJobs < 1) {
            throw new IllegalArgumentException("sd.unet.max-batch must be at least 1, got " + maxJobs);
        }
        this.unet = unet;
        this.maxJobs = maxJobs;
        this.worker = worker;
    }

    public int maxJobs() {
        return maxJobs;
    }

    /** Changes how many jobs the engine holds from now on (the benchmark compares batching on and off). */
    public synchronized void setMaxJobs(int jobs) {
        if (jobs < 1) {
            throw new IllegalArgumentException("at least one job, got " + jobs);
        }
        maxJobs = jobs;
        notifyAll();
    }

    /** Tells {@code observer} how many jobs shared each UNet call from now on (on the engine thread: keep it cheap). */
    public DenoisingEngine observeCallSizes(IntConsumer observer) {
        callSizes = observer;
        return this;
    }

    /** Jobs held now (being prepared, waiting for the next step, running). */
    public synchronized int held() {
        return held;
    }

    /** Reserves room for one more job; false when {@code maxJobs} are held. */
    public synchronized boolean tryReserve() {
        if (held >= maxJobs) {
            return false;
        }
        held++;
        return true;
    }

    /** Waits at most {@code timeout} for room for one more job, and reserves it. */
    public synchronized boolean reserve(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (held >= maxJobs && !closed) {
            long nanos = deadline - System.nanoTime();
            if (nanos <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, nanos);
        }
        if (closed) {
            return false;
        }
        held++;
        return true;
    }

    /** Gives back a reservation whose job never joined (its preparation failed, or it was not wanted). */
    public synchronized void unreserve() {
        held--;
        notifyAll();
    }

    /** A prepared job (its room reserved) joins at the next step boundary. */
    public void add(DenoisingJob job) {
        joining.add(job);
        synchronized (this) {
            notifyAll();
        }
    }

    /** Runs steps on the calling thread until no job is left: one request alone, as the baseline runs it. */
    public void runUntilIdle() {
        while (!joining.isEmpty() || !active.isEmpty()) {
            iterate();
        }
        closePrepared(List.of());
    }

    /** Runs the engine on a thread of its own. */
    public synchronized DenoisingEngine start(String name) {
        thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    private void run() {
        while (!closed) {
            try {
                synchronized (this) {
                    while (joining.isEmpty() && active.isEmpty() && !closed) {
                        wait(1000);
                    }
                }
                iterate();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException | Error e) {
                LOG.errorf(e, "The denoising engine failed a step; failing the %d job(s) in it", active.size());
                for (DenoisingJob job : List.copyOf(active)) {
                    leave(job);
                    job.control.failed(e instanceof RuntimeException r ? r : new IllegalStateException(e));
                }
            }
        }
        closePrepared(List.of());
    }

    /** One step for every active job, after letting the joining ones in. */
    void iterate() {
        admit();
        if (active.isEmpty()) {
            return;
        }
        List<List<DenoisingJob>> calls = plan();
        for (List<DenoisingJob> call : calls) {
            runCall(call);
        }
        // Conditioning of calls planned this step is kept for the next one; the rest is released.
        closePrepared(calls);
    }

    private void admit() {
        DenoisingJob job;
        while ((job = joining.poll()) != null) {
            JobControl.StepAction action;
            try {
                action = job.control.beforeStart(job.stepsDone(), job.totalSteps());
            } catch (RuntimeException e) {
                release();
                job.control.failed(e);
                continue;
            }
            switch (action) {
                case CONTINUE, CHECKPOINT -> {
                    if (job.finished()) {
                        // img2img with strength 0 (or a checkpoint at the last step): nothing left to run.
                        release();
                        finish(job);
                    } else {
                        active.add(job);
                    }
                }
                case CANCEL -> {
                    release();
                    job.control.cancelled(job.stepsDone(), job.totalSteps());
                }
                case HAND_ON, DROP -> release();
            }
        }
    }

    /**
     * The UNet calls of one step: jobs grouped by shapes (and by timestep, where the export takes one timestep per
     * call), in the order they joined, each group cut into calls of at most {@code maxRows} rows.
     */
    private List<List<DenoisingJob>> plan() {
        Map<String, List<DenoisingJob>> groups = new LinkedHashMap<>();
        boolean perRow = unet.timestepPerRow();
        for (DenoisingJob job : active) {
            String key = perRow ? job.batchKey() : job.batchKey() + "@" + job.timestep();
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(job);
        }
        List<List<DenoisingJob>> calls = new ArrayList<>();
        int maxRows = 2 * maxJobs;
        for (List<DenoisingJob> group : groups.values()) {
            List<DenoisingJob> call = new ArrayList<>();
            int rows = 0;
            for (DenoisingJob job : group) {
                if (!call.isEmpty() && rows + job.rows() > maxRows) {
                    calls.add(call);
                    call = new ArrayList<>();
                    rows = 0;
                }
                call.add(job);
                rows += job.rows();
            }
            calls.add(call);
        }
        return calls;
    }

    private void runCall(List<DenoisingJob> planned) {
        List<DenoisingJob> call = new ArrayList<>(planned.size());
        List<FloatTensor> samples = new ArrayList<>(planned.size());
        int totalRows = 0;
        for (DenoisingJob job : planned) {
            try {
                samples.add(job.modelInput());
            } catch (RuntimeException e) {
                fail(job, job.explain(e));
                continue;
            }
            call.add(job);
            totalRows += job.rows();
        }
        if (call.isEmpty()) {
            return;
        }
        UNet.Prediction prediction;
        try {
            float[] timesteps = new float[totalRows];
            int row = 0;
            for (DenoisingJob job : call) {
                for (int r = 0; r < job.rows(); r++) {
                    timesteps[row++] = job.timestep();
                }
            }
            prediction = unet.predict(Tensors.concat(samples), timesteps, Map.of(), conditioning(call));
        } catch (RuntimeException e) {
            for (DenoisingJob job : call) {
                fail(job, e);
            }
            return;
        }
        callSizes.accept(call.size());
        FloatTensor out = prediction.prediction();
        int row = 0;
        for (DenoisingJob job : call) {
            int rows = job.rows();
            FloatTensor mine = Tensors.slice(out, row, row + rows);
            row += rows;
            job.onnxNanos += prediction.nanos() * rows / totalRows;
            job.largestBatch = Math.max(job.largestBatch, call.size());
            try {
                job.step(mine);
            } catch (RuntimeException e) {
                fail(job, job.explain(e));
                continue;
            }
            afterStep(job);
        }
    }

    private void afterStep(DenoisingJob job) {
        JobControl.StepAction action;
        try {
            if (job.control.wantsPreview(job.stepsDone(), job.totalSteps())) {
                job.control.preview(job.stepsDone(), job.totalSteps(), job.predictedOriginal());
            }
            action = job.control.afterStep(job.stepsDone(), job.totalSteps());
        } catch (RuntimeException e) {
            fail(job, e);
            return;
        }
        if (job.finished() && action != JobControl.StepAction.CANCEL && action != JobControl.StepAction.DROP) {
            leave(job);
            finish(job);
            return;
        }
        switch (action) {
            case CONTINUE -> {
            }
            case CHECKPOINT -> job.control.checkpoint(job.checkpoint(worker, job.segments()), false);
            case HAND_ON -> {
                leave(job);
                job.control.checkpoint(job.checkpoint(worker, job.segments()), true);
            }
            case CANCEL -> {
                leave(job);
                job.control.cancelled(job.stepsDone(), job.totalSteps());
            }
            case DROP -> leave(job);
        }
    }

    private void finish(DenoisingJob job) {
        try {
            job.finish();
        } catch (RuntimeException e) {
            job.control.failed(e);
        }
    }

    private void fail(DenoisingJob job, RuntimeException e) {
        leave(job);
        job.control.failed(e);
    }

    private void leave(DenoisingJob job) {
        if (active.remove(job)) {
            release();
        }
    }

    private synchronized void release() {
        held--;
        notifyAll();
    }

    /** The call's conditioning inputs, converted once per set of jobs and reused while the set is unchanged. */
    private Map<String, OnnxModel.PreparedInput> conditioning(List<DenoisingJob> call) {
        Map<String, OnnxModel.PreparedInput> inputs = prepared.get(call);
        if (inputs != null) {
            return inputs;
        }
        inputs = new LinkedHashMap<>();
        for (String name : call.get(0).conditioningInputs()) {
            List<FloatTensor> parts = new ArrayList<>(call.size());
            for (DenoisingJob job : call) {
                parts.add(job.conditioning(name));
            }
            inputs.put(name, unet.model().prepare(name, Tensors.concat(parts)));
        }
        prepared.put(List.copyOf(call), inputs);
        return inputs;
    }

    private void closePrepared(List<List<DenoisingJob>> keep) {
        prepared.entrySet().removeIf(entry -> {
            if (keep.contains(entry.getKey())) {
                return false;
            }
            entry.getValue().values().forEach(OnnxModel.PreparedInput::close);
            return true;
        });
    }

    @Override
    public void close() {
        closed = true;
        synchronized (this) {
            notifyAll();
        }
        if (thread != null) {
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
