# syntax=docker/dockerfile:1
# collab-server container image: team mode (PostgreSQL from the environment), workspaces on a
# volume, non-root, with a JDK AOT cache trained at build time. docs/deploy.md explains each choice.
#
#   docker build -t collab-server .
#   docker run --rm -p 8080:8080 -v collab-workspaces:/workspaces \
#     -e COLLAB_DATABASE_URL=postgres://collab:secret@db.example:5432/collab collab-server

# Base images: Temurin 25 on Ubuntu 24.04, pinned to a full release so builds repeat; written out
# in the FROM lines (not ARGs) so Dependabot proposes each new 25.x release (never a new major).

# ---- build: the Maven wrapper on a JDK, without the built-in PostgreSQL binaries ------------
FROM eclipse-temurin:25.0.3_9-jdk-noble AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY .mvn/ .mvn/
COPY mvnw pom.xml ./
# Dependencies first, so a source change does not download them again.
RUN --mount=type=cache,target=/root/.m2 ./mvnw -B -ntp -Dteam-mode-only dependency:go-offline
COPY db/ db/
COPY src/main/ src/main/
# The git metadata only feeds /actuator/info (commit id); it stays in this stage.
COPY .git/ .git/
# Extracting names the runnable JAR after its file: application.jar, as the entrypoint expects.
RUN --mount=type=cache,target=/root/.m2 ./mvnw -B -ntp -Dteam-mode-only -Dmaven.test.skip=true package \
 && cp target/collab-server-*.jar application.jar \
 && java -Djarmode=tools -jar application.jar extract --layers --destination /layers

# ---- runtime: JRE, tini as PID 1, curl for the container health check ----------------------
FROM eclipse-temurin:25.0.3_9-jre-noble AS runtime
# tini reaps the agents' orphaned children (the JVM as PID 1 would leave zombies) and forwards
# SIGTERM to the JVM, which drains. curl serves the ECS container health check. git clones the
# project's repository into a session's workspace and computes its diff; openssh-client serves
# ssh:// and user@host:path repositories (docs/runner.md, "The project's repository").
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini curl git openssh-client \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 collab \
 && useradd --system --uid 10001 --gid collab --home-dir /var/lib/collab --shell /usr/sbin/nologin collab \
 && install -d -o collab -g collab -m 750 /var/lib/collab /workspaces
WORKDIR /app
# Least to most often changed, one layer each.
COPY --from=build /layers/dependencies/ ./
COPY --from=build /layers/spring-boot-loader/ ./
COPY --from=build /layers/snapshot-dependencies/ ./
COPY --from=build /layers/application/ ./

# ---- training: one start against a throw-away PostgreSQL records the JDK AOT cache ----------
# Same files and JVM flags as the final image, so the cache matches it; the PostgreSQL server
# used for training stays in this stage.
FROM runtime AS training
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql \
 && rm -rf /var/lib/apt/lists/*
RUN set -eu; \
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1); \
    install -d -o postgres /tmp/pg; \
    su postgres -s /bin/sh -c "$pg_bin/initdb -D /tmp/pg/data -U collab --auth=trust >/dev/null \
        && $pg_bin/pg_ctl -D /tmp/pg/data -o '-p 5432 -k /tmp/pg -c listen_addresses=127.0.0.1' -w start >/dev/null \
        && $pg_bin/createdb -h 127.0.0.1 -U collab collab"; \
    java -XX:+UseG1GC -XX:MaxRAMPercentage=60 -XX:AOTCacheOutput=/app/collab.aot \
         -Dspring.context.exit=onRefresh -jar /app/application.jar \
         --spring.datasource.url=jdbc:postgresql://127.0.0.1:5432/collab --spring.datasource.username=collab \
         --collab.data-dir=/tmp/training --server.port=0; \
    test -s /app/collab.aot; \
    su postgres -s /bin/sh -c "$pg_bin/pg_ctl -D /tmp/pg/data -m fast -w stop >/dev/null"

# ---- final image -----------------------------------------------------------------------------
FROM runtime
COPY --from=training /app/collab.aot /app/collab.aot
ENV COLLAB_DATA_DIR=/var/lib/collab \
    COLLAB_WORKSPACE_ROOT=/workspaces
VOLUME ["/workspaces"]
USER collab:collab
EXPOSE 8080
# For plain `docker run`; ECS uses the task definition's health check (deploy/cdk). Actuator is
# on the API port unless MANAGEMENT_SERVER_PORT moves it.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD curl -fsS --max-time 2 "http://127.0.0.1:${MANAGEMENT_SERVER_PORT:-8080}/actuator/health/liveness" || exit 1
# Heap at 60% of the container's memory: agents run in the same container and need the rest.
# G1 is pinned: on a 1-vCPU task the JVM would pick Serial GC, whose full pauses grow with the
# heap of 10,000 open streams.
# Extra JVM flags: JAVA_TOOL_OPTIONS (agents that are JVMs see it too).
ENTRYPOINT ["/usr/bin/tini", "--", "java", "-XX:+UseG1GC", "-XX:MaxRAMPercentage=60", \
            "-XX:+ExitOnOutOfMemoryError", "-XX:AOTCache=/app/collab.aot", "-jar", "/app/application.jar"]
