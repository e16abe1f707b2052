package dev.collab.run;

import java.util.UUID;

import org.springframework.stereotype.Component;

/** This server process's identity in the runs table (which instance runs which run). */
@Component
class InstanceId {

    private final String value = UUID.randomUUID().toString();

    String value() {
        return value;
    }

}
