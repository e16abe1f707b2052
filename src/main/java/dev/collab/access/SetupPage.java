package dev.collab.access;

import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.config.annotation.ResourceHandlerRegistry;
import org.springframework.web.servlet.config.annotation.ViewControllerRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * The minimal {@code /setup} page of the setup link (static HTML and an ES module, no
 * inline script, as the CSP requires), until the browser app replaces it.
 */
@Configuration(proxyBeanMethods = false)
class SetupPage implements WebMvcConfigurer {

    @Override
    public void addViewControllers(ViewControllerRegistry registry) {
        registry.addViewController("/setup").setViewName("forward:/setup.html");
    }

    @Override
    public void addResourceHandlers(ResourceHandlerRegistry registry) {
        registry.addResourceHandler("/setup.html", "/setup.js").addResourceLocations("classpath:/static/");
    }

}
