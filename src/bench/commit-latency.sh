#!/usr/bin/env bash
# Benchmark (issue 4): the cost of one durable append in PostgreSQL alone, as a bare JDBC client
# sees it (CommitLatency.java): autocommit against statement + commit, after pauses of 0, 5 and
# 50 ms. Starts collab-server with its built-in PostgreSQL in a temp directory for the schema and
# a session, then talks to that PostgreSQL directly. Loopback only.
#   usage: src/bench/commit-latency.sh [rounds=200]
# Needs: a JDK 21+ (JAVA_HOME), curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-200}
if [[ -z "${JAVA_HOME:-}" && -d /usr/lib/jvm/temurin-25-jdk-amd64 ]]; then export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64; fi
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
[[ -f target/classes/dev/collab/CollabServerApplication.class ]] || ./mvnw -B -q -DskipTests package
[[ -s target/bench.classpath ]] || ./mvnw -B -q dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
CP="target/classes:$(cat target/bench.classpath)"
PGJDBC=$(tr ':' '\n' <target/bench.classpath | grep -m1 '/postgresql-[0-9.]*\.jar$')
WORK=$(mktemp -d /tmp/collab-commit-XXXXXX)
PORT=18711
cleanup() { [[ -n "${PID:-}" ]] && { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }; rm -rf "$WORK"; }
trap cleanup EXIT

"$JAVA" -cp "$CP" dev.collab.CollabServerApplication --collab.data-dir="$WORK/data" --server.port=$PORT \
  --collab.sweeper.enabled=false >"$WORK/log" 2>&1 &
PID=$!
for _ in $(seq 1 600); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/actuator/health/readiness" && break; sleep 0.2; done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/actuator/health/readiness" || { echo "not ready:" >&2; tail -20 "$WORK/log" >&2; exit 1; }
curl -sf -o /dev/null -X PUT "http://127.0.0.1:$PORT/api/projects/commit-bench" -H 'Content-Type: application/json' -d '{"name":"commit bench"}'
SESSION=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/projects/commit-bench/sessions" -H 'Content-Type: application/json' -d '{}' \
  | sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p')
PG_PORT=$(sed -n 's/.*Built-in PostgreSQL ready on port \([0-9]*\).*/\1/p' "$WORK/log" | head -1)
echo "built-in PostgreSQL on port $PG_PORT, session $SESSION; $ROUNDS appends per row" >&2
"$JAVA" -cp "$PGJDBC" src/bench/CommitLatency.java "jdbc:postgresql://127.0.0.1:$PG_PORT/collab" postgres "$SESSION" "$ROUNDS"
