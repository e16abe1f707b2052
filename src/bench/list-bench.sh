#!/usr/bin/env bash
# Benchmark (issue 16): the live session list, GET /api/projects/{key}/sessions/stream. Two
# processes: collab-server (built-in PostgreSQL, from the TEST classpath for
# POST /test/sessions/{id}/events, the append path of the fan-out bench) and the load side,
# ListBench.java: one project with SESSIONS active sessions, RATE appends/s at random sessions,
# for SECONDS with 0 watchers (the reference), then the same with WATCHERS live lists open.
# Prints the server's CPU (JVM; PostgreSQL: postmaster and backends, from /proc) side by side and,
# with watchers, p50/p99/max of change → update on every watcher. Loopback only.
#   usage: src/bench/list-bench.sh [sessions=1000] [rate=500] [watchers=50] [seconds=30]
# Environment: JAVA_HOME (default temurin 25), PORT (18491), NO_BUILD=1 (use target/ as it is).
# Needs: a JDK 21+, curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
SESSIONS=${1:-1000} RATE=${2:-500} WATCHERS=${3:-50} SECONDS_=${4:-30}
if [[ -z "${JAVA_HOME:-}" && -d /usr/lib/jvm/temurin-25-jdk-amd64 ]]; then export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64; fi
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
PORT=${PORT:-18491}
B="http://127.0.0.1:$PORT"
if [[ -z "${NO_BUILD:-}" ]]; then
  [[ -f target/test-classes/dev/collab/web/TestEndpoints.class && -f target/classes/dev/collab/CollabServerApplication.class ]] \
    || ./mvnw -B -q -DskipTests package
fi
[[ -s target/bench.classpath ]] || ./mvnw -B -q dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
WORK=$(mktemp -d /tmp/collab-list-XXXXXX)
mkdir -p "$WORK/cp"
cp -r target/classes "$WORK/cp/classes"
cp -r target/test-classes "$WORK/cp/test-classes"
CP="$WORK/cp/test-classes:$WORK/cp/classes:$(cat target/bench.classpath)"
JPID=
cleanup() {
  set +e
  if [[ -n "$JPID" ]]; then kill "$JPID"; for _ in $(seq 1 120); do kill -0 "$JPID" 2>/dev/null || break; sleep 0.5; done; wait "$JPID"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck disable=SC2086
"$JAVA" ${JAVA_OPTS:-} -cp "$CP" dev.collab.CollabServerApplication --collab.data-dir="$WORK/data" --server.port="$PORT" \
  --collab.test.endpoints=true --collab.sweeper.enabled=false \
  --collab.auth.first-admin.login=bench --collab.auth.first-admin.password=bench-password-1 >"$WORK/log" 2>&1 &
JPID=$!
for _ in $(seq 1 1200); do curl -sf -o /dev/null "$B/actuator/health/readiness" && break; sleep 0.2; done
curl -sf -o /dev/null "$B/actuator/health/readiness" || { echo "not ready:" >&2; tail -30 "$WORK/log" >&2; exit 1; }
PM=$(head -1 "$(find "$WORK/data" -maxdepth 3 -name postmaster.pid | head -1)")
JAR_COOKIES="$WORK/cookies"
curl -sf -c "$JAR_COOKIES" -H 'Content-Type: application/json' -d '{"login":"bench","password":"bench-password-1"}' "$B/api/auth/login" >/dev/null
XSRF=$(awk '$6=="XSRF-TOKEN"{print $7}' "$JAR_COOKIES")
TOKEN=$(curl -sf -b "$JAR_COOKIES" -H "X-XSRF-TOKEN: $XSRF" -H 'Content-Type: application/json' \
  -d '{"name":"list-bench","expiresAt":null}' "$B/api/tokens" | sed -n 's/.*"token":"\(collab_pat_[^"]*\)".*/\1/p')
echo "server pid $JPID, PostgreSQL postmaster $PM; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$JAVA" src/bench/ListBench.java "$B" "$TOKEN" "$JPID" "$PM" "$SESSIONS" "$RATE" "$WATCHERS" "$SECONDS_"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# What V14's list-version trigger adds to an append: the log's append statement against the same
# PostgreSQL, trigger on and off in alternating blocks (ListVersionCost.java).
PGJDBC=$(tr ':' '\n' <target/bench.classpath | grep -m1 '/postgresql-[0-9.]*\.jar$')
PG_PORT=$(sed -n 's/.*Built-in PostgreSQL ready on port \([0-9]*\).*/\1/p' "$WORK/log" | head -1)
curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"name":"trigger cost"}' "$B/api/projects/trigger-cost"
SESSION=$(curl -sf -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{}' \
  "$B/api/projects/trigger-cost/sessions" | sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p')
echo
"$JAVA" -cp "$PGJDBC" src/bench/ListVersionCost.java "jdbc:postgresql://127.0.0.1:$PG_PORT/collab" postgres \
  "$(cat "$WORK/data/postgres-password")" "$SESSION" "${BLOCKS:-10}" "${PER_BLOCK:-200}"
