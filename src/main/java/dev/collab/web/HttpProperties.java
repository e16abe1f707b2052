package dev.collab.web;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.NotNull;

/**
 * HTTP settings of the API.
 *
 * @param maxBodySize        largest request body accepted; larger ones get {@code 413 payload-too-large}
 *                           ({@code collab.http.max-body-size}, default 1MB: a 100,000-character message
 *                           fits with room for JSON escaping)
 * @param requestHeadTimeout a connection that has not sent a complete request head (request line and
 *                           headers) this long after it opened, or after it started the head of its
 *                           next request, is closed ({@code collab.http.request-head-timeout}, default
 *                           10s; 0 turns it off). The idle timeout alone does not bound a client that
 *                           sends one header line every few seconds.
 */
@Validated
@ConfigurationProperties("collab.http")
record HttpProperties(@NotNull @DefaultValue("1MB") DataSize maxBodySize,
        @NotNull @DefaultValue("10s") Duration requestHeadTimeout) {
}
