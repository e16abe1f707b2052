package dev.collab.stream;

import dev.collab.cluster.ClusterNotifications;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * The {@code streams} health component: open streams and the state of the notification
 * connection. Not part of readiness: streams still work without it (through the periodic
 * tail check), only slower; it is DOWN while that connection is lost, for operators to
 * see.
 */
@Component("streamsHealthIndicator")
class StreamsHealthIndicator implements HealthIndicator {

    private final StreamHub hub;

    private final ClusterNotifications listener;

    StreamsHealthIndicator(StreamHub hub, ClusterNotifications listener) {
        this.hub = hub;
        this.listener = listener;
    }

    @Override
    public Health health() {
        ClusterNotifications.State state = listener.state();
        return (state == ClusterNotifications.State.RECONNECTING ? Health.down() : Health.up())
            .withDetail("subscribers", hub.subscriberCount())
            .withDetail("sessionsWatched", hub.channelCount())
            .withDetail("listener", state.name())
            .withDetail("listenerReconnects", listener.reconnects())
            .build();
    }

}
