package dev.collab.database;

import com.zaxxer.hikari.HikariDataSource;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;

/**
 * Built-in mode: an embedded PostgreSQL under {@code <collab.data-dir>/postgres} backs
 * the connection pool. Because the pool depends on the server bean, Spring closes the
 * pool before it stops PostgreSQL, and both only after the web server has drained (beans
 * are destroyed after lifecycle shutdown); the library's own JVM shutdown hook is off for
 * that reason.
 */
@Configuration(proxyBeanMethods = false)
@Conditional(BuiltInDatabaseCondition.class)
class BuiltInDatabaseConfiguration {

    @Bean(destroyMethod = "close")
    BuiltInPostgres builtInPostgres(BuiltInPostgresStartup.Pending startup) {
        return startup.await();
    }

    @Bean
    @ConfigurationProperties("spring.datasource.hikari")
    HikariDataSource dataSource(BuiltInPostgres postgres) {
        HikariDataSource dataSource = new HikariDataSource();
        dataSource.setJdbcUrl(postgres.jdbcUrl());
        dataSource.setUsername(BuiltInPostgres.USER);
        dataSource.setPassword(postgres.password());
        dataSource.setPoolName("collab");
        return dataSource;
    }

}
