package dev.collab.web;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.constraints.NotNull;

/**
 * HTTP settings of the API.
 *
 * @param maxBodySize largest request body accepted; larger ones get {@code 413 payload-too-large}
 *                    ({@code collab.http.max-body-size}, default 1MB: a 100,000-character message
 *                    fits with room for JSON escaping)
 */
@Validated
@ConfigurationProperties("collab.http")
record HttpProperties(@NotNull @DefaultValue("1MB") DataSize maxBodySize) {
}
