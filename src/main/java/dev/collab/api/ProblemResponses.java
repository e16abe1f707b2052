package dev.collab.api;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import dev.collab.web.ProblemCode;

/**
 * The problems an operation can answer with beyond those every operation can (see
 * {@link OpenApiConfiguration#STANDARD_PROBLEMS}): each becomes a documented
 * {@code application/problem+json} response with the code's status. Several codes with
 * one status share that response.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface ProblemResponses {

    ProblemCode[] value();

}
