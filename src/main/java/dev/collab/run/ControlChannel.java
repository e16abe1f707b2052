package dev.collab.run;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import dev.collab.cluster.ClusterNotifications;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Short commands between instances (for example "interrupt run X" to the instance that
 * runs it), over PostgreSQL NOTIFY on {@code collab_control}, received by this instance's
 * LISTEN connection. Delivery is best effort: a command for an instance that is gone is
 * dropped, and whatever it was about is settled by leases.
 */
@Component
class ControlChannel {

    static final String CHANNEL = "collab_control";

    private static final Logger log = LoggerFactory.getLogger(ControlChannel.class);

    private final ClusterNotifications notifications;

    private final List<Consumer<String>> handlers = new CopyOnWriteArrayList<>();

    ControlChannel(ClusterNotifications notifications) {
        this.notifications = notifications;
        notifications.listen(CHANNEL, this::received);
    }

    /**
     * Sends a command to every instance (this one included); at most a few hundred bytes.
     */
    void send(String command) {
        notifications.send(CHANNEL, command);
    }

    /** Registers a handler for every command received. */
    void onCommand(Consumer<String> handler) {
        handlers.add(handler);
    }

    /**
     * Hands the command to every handler. One that throws is logged and skipped: it runs
     * on the LISTEN thread, where an exception would drop the connection and the rest of
     * its batch.
     */
    void received(String command) {
        for (Consumer<String> handler : handlers) {
            try {
                handler.accept(command);
            }
            catch (RuntimeException e) {
                log.warn("A handler of control command {} failed: {}", command, e.toString());
            }
        }
    }

}
