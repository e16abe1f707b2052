package dev.collab.run;

import java.util.List;

import dev.collab.ops.StartupCheckException;
import org.springframework.stereotype.Component;

/**
 * The protocol the server is configured with ({@code collab.runner.protocol}), among the
 * {@link AgentProtocol} beans.
 */
@Component
class AgentProtocols {

    private final AgentProtocol selected;

    AgentProtocols(RunnerProperties properties, List<AgentProtocol> protocols) {
        this.selected = protocols.stream()
            .filter(protocol -> protocol.name().equals(properties.protocol()))
            .findFirst()
            .orElseThrow(() -> new StartupCheckException(
                    "collab.runner.protocol=" + properties.protocol() + " is not available in this build",
                    "set collab.runner.protocol to one of "
                            + protocols.stream().map(AgentProtocol::name).sorted().toList()));
    }

    AgentProtocol selected() {
        return selected;
    }

}
