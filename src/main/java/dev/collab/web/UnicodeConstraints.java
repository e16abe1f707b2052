package dev.collab.web;

import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;
import org.hibernate.validator.HibernateValidatorConfiguration;
import org.hibernate.validator.cfg.ConstraintMapping;
import org.springframework.boot.validation.autoconfigure.ValidationConfigurationCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The standard {@code @Size} and {@code @NotBlank} on strings, as the contract means
 * them: {@code @Size} counts characters (code points: an emoji is one, not two UTF-16
 * units) and {@code @NotBlank} also rejects text made only of Unicode spaces and
 * invisible characters (NBSP, U+200B, U+FEFF…). The request records keep the standard
 * annotations, so their documentation (and an OpenAPI schema's {@code maxLength}, which
 * counts code points too) stays what it says.
 */
@Configuration(proxyBeanMethods = false)
class UnicodeConstraints {

    @Bean
    ValidationConfigurationCustomizer unicodeStringConstraints() {
        return configuration -> {
            if (configuration instanceof HibernateValidatorConfiguration hibernate) {
                // Added to Hibernate Validator's own validators: for a String these are
                // the most
                // specific, so they win; collections and other CharSequences keep the
                // built-in ones.
                ConstraintMapping mapping = hibernate.createConstraintMapping();
                mapping.constraintDefinition(Size.class)
                    .includeExistingValidators(true)
                    .validatedBy(CodePointSize.class);
                mapping.constraintDefinition(NotBlank.class)
                    .includeExistingValidators(true)
                    .validatedBy(UnicodeNotBlank.class);
                hibernate.addMapping(mapping);
            }
        };
    }

    /** {@code @Size} on a String, in code points. */
    public static final class CodePointSize implements ConstraintValidator<Size, String> {

        private int min;

        private int max;

        @Override
        public void initialize(Size size) {
            this.min = size.min();
            this.max = size.max();
        }

        @Override
        public boolean isValid(String value, ConstraintValidatorContext context) {
            if (value == null) {
                return true;
            }
            int length = Text.length(value);
            return length >= min && length <= max;
        }

    }

    /** {@code @NotBlank} on a String: something visible must be left. */
    public static final class UnicodeNotBlank implements ConstraintValidator<NotBlank, String> {

        @Override
        public boolean isValid(String value, ConstraintValidatorContext context) {
            return value != null && !Text.isBlank(value);
        }

    }

}
