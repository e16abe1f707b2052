package dev.collab.ops;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * Keeps {@code http.server.requests.active} (the long-task timer of requests in flight) a
 * plain one, without buckets or percentiles.
 *
 * <p>
 * {@code management.metrics.distribution.slo.http.server.requests} (the latency buckets
 * of {@code http_server_requests_seconds_bucket}, application.yaml) matches meter names
 * by prefix, so it reaches the active-requests timer too, and Prometheus then exports
 * that one as a gauge histogram: {@code http_server_requests_active_seconds_gcount} and
 * {@code _gsum} instead of {@code _count} and {@code _sum}, which the drain's tests and
 * dashboards read. Ordered last, so it sees what the property filter configured and takes
 * the buckets off again.
 */
@Component
@Order(Ordered.LOWEST_PRECEDENCE)
class ActiveRequestsMeterFilter implements MeterFilter {

    static final String ACTIVE_REQUESTS = "http.server.requests.active";

    @Override
    public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
        if (!ACTIVE_REQUESTS.equals(id.getName())) {
            return config;
        }
        return DistributionStatisticConfig.builder()
            .percentilesHistogram(false)
            .serviceLevelObjectives(new double[0])
            .percentiles(new double[0])
            .build()
            .merge(config);
    }

}
