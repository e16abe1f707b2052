package dev.collab.web;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.NotNull;

/**
 * HTTP settings of the API ({@code collab.http.*}, docs/configuration.md). The defaults
 * are the {@code @DefaultValue}s here and nowhere else.
 *
 * @param maxBodySize the largest request body accepted; a larger one gets 413
 * payload-too-large (1MB: a 100,000-character message fits with room for JSON escaping)
 * @param requestHeadTimeout a connection that has not sent a complete request head
 * (request line and headers) this long after it opened, or after it started the head of
 * its next request, is closed; 0 turns the deadline off. Jetty's idle timeout alone does
 * not stop a client that sends one header line every few seconds
 */
@Validated
@ConfigurationProperties("collab.http")
record HttpProperties(@NotNull @DefaultValue("1MB") DataSize maxBodySize,
        @NotNull @DefaultValue("10s") Duration requestHeadTimeout) {
}
