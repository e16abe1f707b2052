package dev.collab.web;

import java.lang.reflect.Method;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServletRequest;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextType;
import org.springframework.boot.jetty.ConfigurableJettyWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.boot.webmvc.autoconfigure.WebMvcProperties;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.core.Ordered;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.util.ReflectionUtils;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.DispatcherServlet;
import org.springframework.web.servlet.HandlerExecutionChain;
import org.springframework.web.servlet.HandlerMapping;

/**
 * The request rules of this package on the management port. With
 * {@code management.server.port} set (as {@code deploy/cdk} does: 8081, where the ECS and
 * ALB health checks go), Actuator runs in a child context on a Jetty server of its own,
 * and none of the main context's filters, error page, Jetty customizers or
 * DispatcherServlet settings reach it: Boot collects each of them from the context the
 * server belongs to. This configuration, which Boot imports into that child context only
 * ({@code META-INF/spring/...ManagementContextConfiguration.imports}), gives the
 * management server the same ones, as new instances of the same classes:
 * <ul>
 * <li>the filters: request ids, the access log, the request-shape rules (query strings,
 * Content-Type, TRACE, the error page), problem bodies for empty Actuator errors,
 * relative Actuator links and the body limit ({@link DrainFilter} only concerns
 * {@code /api/**});
 * <li>Jetty's {@link ProblemErrorHandler} and the {@link RequestHeadDeadline};
 * <li>{@link ProblemErrorController} as the error page, instead of Boot's management
 * error endpoint (Boot's error JSON, no {@code code} or {@code requestId});
 * <li>{@code spring.mvc.dispatch-trace-request} and {@code dispatch-options-request} on
 * the child's DispatcherServlet, which Boot creates without them (TRACE would be echoed).
 * </ul>
 * Exceptions thrown by Actuator's handlers already reach {@link ProblemHandler}: the
 * child's exception resolvers include the parent's.
 */
@ManagementContextConfiguration(value = ManagementContextType.CHILD, proxyBeanMethods = false)
// Component scanning of dev.collab finds this class too (it is a @Configuration): without
// the
// condition the main context would get a second copy of every filter.
@Conditional(ManagementPortConfiguration.InTheManagementContext.class)
class ManagementPortConfiguration {

    /** The server namespace Boot gives the management child context. */
    static final String MANAGEMENT_NAMESPACE = "management";

    @Bean
    RequestIdFilter managementRequestIdFilter() {
        return new RequestIdFilter();
    }

    @Bean
    AccessLogFilter managementAccessLogFilter(AccessLog accessLog) {
        return new AccessLogFilter(accessLog);
    }

    @Bean
    RequestShapeFilter managementRequestShapeFilter(@Value("${server.error.path:/error}") String errorPath) {
        return new RequestShapeFilter(errorPath);
    }

    @Bean
    EmptyErrorBodyFilter managementEmptyErrorBodyFilter() {
        return new EmptyErrorBodyFilter();
    }

    @Bean
    ActuatorLinksFilter managementActuatorLinksFilter(
            @Value("${management.endpoints.web.base-path:/actuator}") String basePath) {
        return new ActuatorLinksFilter(basePath);
    }

    @Bean
    BodySizeLimitFilter managementBodySizeLimitFilter(HttpProperties properties) {
        return new BodySizeLimitFilter(properties);
    }

    @Bean
    WebServerFactoryCustomizer<ConfigurableJettyWebServerFactory> managementJettyRules(AccessLog accessLog,
            HttpProperties properties) {
        return factory -> factory.addServerCustomizers(JettyErrorPageConfiguration.problemErrorHandlerOf(accessLog),
                JettyErrorPageConfiguration.requestHeadDeadlineOf(properties));
    }

    @Bean
    static BeanPostProcessor managementDispatcherServletSettings(ObjectProvider<WebMvcProperties> mvc) {
        return new BeanPostProcessor() {
            @Override
            public Object postProcessBeforeInitialization(Object bean, String beanName) throws BeansException {
                WebMvcProperties properties = mvc.getIfAvailable();
                if (bean instanceof DispatcherServlet servlet && properties != null) {
                    servlet.setDispatchTraceRequest(properties.isDispatchTraceRequest());
                    servlet.setDispatchOptionsRequest(properties.isDispatchOptionsRequest());
                }
                return bean;
            }
        };
    }

    /**
     * The main context's error controller (a bean there), answering every error dispatch
     * here.
     */
    @Bean
    @SuppressWarnings("NullAway") // ProblemErrorController.error(HttpServletRequest)
                                  // exists
    HandlerMapping managementProblemErrorPage(ProblemErrorController errorController) {
        Method error = ReflectionUtils.findMethod(ProblemErrorController.class, "error", HttpServletRequest.class);
        return new ErrorDispatchMapping(new HandlerMethod(errorController, error));
    }

    /**
     * Maps every error dispatch to {@link ProblemErrorController}, ahead of Boot's
     * management error endpoint (the child's handler mappings are tried in order). A
     * direct request for the error page never gets here: {@link RequestShapeFilter}
     * answers it with a 404.
     */
    static final class ErrorDispatchMapping implements HandlerMapping, Ordered {

        private final HandlerMethod error;

        ErrorDispatchMapping(HandlerMethod error) {
            this.error = error;
        }

        @Override
        public @Nullable HandlerExecutionChain getHandler(HttpServletRequest request) {
            return request.getDispatcherType() == DispatcherType.ERROR ? new HandlerExecutionChain(error) : null;
        }

        @Override
        public int getOrder() {
            return Ordered.HIGHEST_PRECEDENCE;
        }

    }

    /**
     * True in Boot's management child context only, never in the main context that scans
     * this package.
     */
    static final class InTheManagementContext implements Condition {

        @Override
        public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
            return context.getResourceLoader() instanceof ApplicationContext application
                    && WebServerApplicationContext.hasServerNamespace(application, MANAGEMENT_NAMESPACE);
        }

    }

}
