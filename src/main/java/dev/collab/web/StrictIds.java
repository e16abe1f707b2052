package dev.collab.web;

import java.beans.PropertyEditorSupport;
import java.util.UUID;
import java.util.regex.Pattern;

import org.springframework.web.bind.WebDataBinder;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.InitBinder;

/**
 * Path and query ids are canonical UUIDs (8-4-4-4-12 hex digits, either case). Spring
 * binds a {@code UUID} parameter with {@link UUID#fromString}, which also takes
 * {@code 1-1-1-1-1} (and falls back to it even when a stricter converter refuses); this
 * editor replaces it for every {@code UUID} parameter, so a non-canonical id is
 * {@code 400 validation-failed} (field {@code id}) on every endpoint, never a lookup of a
 * different id.
 */
@ControllerAdvice
class StrictIds {

    private static final Pattern CANONICAL = Pattern
        .compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    @InitBinder
    void canonicalUuids(WebDataBinder binder) {
        binder.registerCustomEditor(UUID.class, new PropertyEditorSupport() {
            @Override
            public void setAsText(String text) {
                setValue(text == null || text.isEmpty() ? null : parse(text));
            }
        });
    }

    static UUID parse(String value) {
        if (!CANONICAL.matcher(value).matches()) {
            throw new IllegalArgumentException("not a canonical UUID");
        }
        return UUID.fromString(value);
    }

}
