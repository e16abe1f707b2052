package dev.collab.web;

import org.springframework.boot.jackson.autoconfigure.JsonMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.deser.jdk.StringDeserializer;
import tools.jackson.databind.deser.std.StdScalarDeserializer;
import tools.jackson.databind.exc.InvalidFormatException;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.type.LogicalType;

/**
 * How request bodies are read (docs/api.md, "Conventions"): a JSON value of the wrong
 * type is never coerced ({@code {"text":42}} is not the text "42", {@code {"name":true}}
 * not "true"), and every string must be acceptable {@link Text} (no U+0000, no lone
 * surrogate), checked once here for every body rather than field by field. An empty or
 * blank string is its own input shape in Jackson (it would read as null or false), so it
 * fails for numbers and booleans too.
 */
@Configuration(proxyBeanMethods = false)
class StrictJsonConfiguration {

    @Bean
    JsonMapperBuilderCustomizer strictJson() {
        return builder -> builder
            .withCoercionConfig(LogicalType.Textual,
                    config -> config.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .withCoercionConfig(LogicalType.Integer,
                    config -> config.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .withCoercionConfig(LogicalType.Float,
                    config -> config.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .withCoercionConfig(LogicalType.Boolean,
                    config -> config.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail))
            .addModule(new SimpleModule("collab-text").addDeserializer(String.class, new TextDeserializer()));
    }

    /**
     * Jackson's own string reading (with the coercion rules above), then the {@link Text}
     * check.
     */
    static final class TextDeserializer extends StdScalarDeserializer<String> {

        TextDeserializer() {
            super(String.class);
        }

        @Override
        public LogicalType logicalType() {
            return LogicalType.Textual;
        }

        @Override
        public String deserialize(JsonParser parser, DeserializationContext context) {
            String value = StringDeserializer.instance.deserialize(parser, context);
            String problem = Text.problem(value);
            if (problem != null) {
                throw new InvalidTextException(parser, problem);
            }
            return value;
        }

    }

    /**
     * A string that breaks a {@link Text} rule: answered as {@code validation-failed}
     * naming the field (Jackson adds the path), not as unreadable JSON. The message is
     * ours and never carries the value.
     */
    static final class InvalidTextException extends InvalidFormatException {

        private final String problem;

        InvalidTextException(JsonParser parser, String problem) {
            super(parser, problem, null, String.class);
            this.problem = problem;
        }

        String problem() {
            return problem;
        }

    }

}
