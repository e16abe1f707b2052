package dev.collab.database;

import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/** Built-in mode is on exactly when no team database URL is configured. */
class BuiltInDatabaseCondition implements Condition {

    @Override
    public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
        String url = context.getEnvironment().getProperty(DatabaseUrlAlias.STANDARD);
        return url == null || url.isBlank();
    }

}
