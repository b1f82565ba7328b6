package dev.latentpipeline.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;

/**
 * The process's CPU time and the JIT compiler's share of it, read before and after a run: on a machine with few
 * cores the whole system (broker, object store, stages, this benchmark's clients) shares them, so core time per
 * request, not a stage's wall time, is what bounds throughput. Compilation shows whether the JVM was still warming
 * up during a run (it goes on for a minute or more under load with the broker and S3 server in the process).
 */
record CpuClock(long cpuNanos, long jitMillis) {

    static CpuClock now() {
        long cpu = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long compiled = jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
        return new CpuClock(cpu, compiled);
    }

    /** What was spent since {@code before}; -1 where this JVM does not tell. */
    CpuClock since(CpuClock before) {
        return new CpuClock(cpuNanos < 0 || before.cpuNanos < 0 ? -1 : cpuNanos - before.cpuNanos,
                jitMillis < 0 || before.jitMillis < 0 ? -1 : jitMillis - before.jitMillis);
    }
}
