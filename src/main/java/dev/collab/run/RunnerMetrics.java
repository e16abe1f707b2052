package dev.collab.run;

import java.util.List;
import java.util.Map;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The runner's meters ({@code collab.run.*}, {@code collab.runs.active}), in one place.
 */
final class RunnerMetrics {

    private final MeterRegistry registry;

    private final Timer duration;

    private final Counter appendFailures;

    private final Counter droppedBytes;

    RunnerMetrics(MeterRegistry registry, OutputBudget budget, Map<?, ?> activeRuns) {
        this.registry = registry;
        this.duration = Timer.builder("collab.run.duration").description("How long runs took").register(registry);
        this.appendFailures = Counter.builder("collab.run.output.append.failures")
            .description("Appends of agent output that failed (the output is kept and appended later)")
            .register(registry);
        this.droppedBytes = Counter.builder("collab.run.output.dropped")
            .baseUnit("bytes")
            .description("Agent output dropped because it could not be appended in time (a marker line says where)")
            .register(registry);
        registry.gauge("collab.run.output.pending", List.of(), budget, OutputBudget::used);
        registry.gaugeMapSize("collab.runs.active", List.of(), activeRuns);
    }

    Timer.Sample startRun() {
        return Timer.start(registry);
    }

    void runEnded(Timer.Sample sample) {
        sample.stop(duration);
    }

    void appendFailed() {
        appendFailures.increment();
    }

    void dropped(long bytes) {
        droppedBytes.increment(bytes);
    }

}
