package dev.collab.app;

import java.util.List;

import org.springframework.context.annotation.Configuration;
import org.springframework.http.CacheControl;
import org.springframework.web.servlet.config.annotation.ResourceHandlerRegistry;
import org.springframework.web.servlet.config.annotation.ViewControllerRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * Serves the browser app: {@code index.html} for every page the app routes itself (so a
 * deep link or a reload works), and its modules and styles under {@code /app/}.
 * <p>
 * Everything is revalidated ({@code no-cache} with {@code Last-Modified}): ES modules
 * import each other by plain relative names, so content-hashed names would need a build
 * step; a revalidation is one small {@code 304} per file, and a new JAR's files are
 * picked up at once. {@code server.compression} (application.yaml) gzips them.
 */
@Configuration(proxyBeanMethods = false)
class AppPages implements WebMvcConfigurer {

    /**
     * The app's own pages (its router knows the same list: {@code app/main.js}). Anything
     * else outside {@code /api} stays a {@code 404} problem.
     */
    static final List<String> PAGES = List.of("/", "/login", "/setup", "/tokens", "/users", "/p/{key}",
            "/p/{key}/settings", "/p/{key}/s/{id}", "/p/{key}/s/{id}/changes");

    @Override
    public void addViewControllers(ViewControllerRegistry registry) {
        for (String page : PAGES) {
            registry.addViewController(page).setViewName("forward:/index.html");
        }
    }

    @Override
    public void addResourceHandlers(ResourceHandlerRegistry registry) {
        registry.addResourceHandler("/index.html", "/favicon.svg")
            .addResourceLocations("classpath:/static/")
            .setCacheControl(CacheControl.noCache());
        registry.addResourceHandler("/app/**")
            .addResourceLocations("classpath:/static/app/")
            .setCacheControl(CacheControl.noCache());
    }

}
