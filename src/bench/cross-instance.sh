#!/usr/bin/env bash
# Benchmark: cross-instance delivery. Events are appended on instance A (built-in PostgreSQL) and
# read from streams on instance B (team mode on A's PostgreSQL), so every delivery goes through
# the batched NOTIFY, B's LISTEN connection and B's fan-out. Loopback only.
#   usage: src/bench/cross-instance.sh [sessions=50] [watchers=2] [events/s=100] [seconds=30]
# Needs: a JDK 21+ (JAVA_HOME), Node.js, curl. Runs from the test classpath (test append endpoint).
set -euo pipefail
cd "$(dirname "$0")/../.."
SESSIONS=${1:-50} WATCHERS=${2:-2} RATE=${3:-100} SECONDS_=${4:-30}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
[[ -f target/test-classes/dev/collab/web/TestEndpoints.class ]] || ./mvnw -B -q -DskipTests package
[[ -s target/bench.classpath ]] || ./mvnw -B -q dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
CP="target/test-classes:target/classes:$(cat target/bench.classpath)"
WORK=$(mktemp -d /tmp/collab-cross-XXXXXX)
A=18701 B=18702
cleanup() { [[ -n "${PB:-}" ]] && kill "$PB" 2>/dev/null; [[ -n "${PA:-}" ]] && { sleep 1; kill "$PA" 2>/dev/null; wait "$PA" 2>/dev/null; }; rm -rf "$WORK"; }
trap cleanup EXIT
ready() { for _ in $(seq 1 600); do curl -sf -o /dev/null "http://127.0.0.1:$1/actuator/health/readiness" && return 0; sleep 0.2; done; echo "not ready: $1" >&2; exit 1; }

"$JAVA" -cp "$CP" dev.collab.CollabServerApplication --collab.data-dir="$WORK/a" --server.port=$A \
    --collab.test.endpoints=true --collab.sweeper.enabled=false >"$WORK/a.log" 2>&1 &
PA=$!
ready $A
PGPORT=$(grep -o 'Built-in PostgreSQL ready on port [0-9]*' "$WORK/a.log" | grep -o '[0-9]*$')
"$JAVA" -cp "$CP" dev.collab.CollabServerApplication --collab.data-dir="$WORK/b" --server.port=$B \
    --spring.datasource.url="jdbc:postgresql://localhost:$PGPORT/collab" --spring.datasource.username=postgres \
    --collab.test.endpoints=true --collab.sweeper.enabled=false >"$WORK/b.log" 2>&1 &
PB=$!
ready $B
echo "== append on :$A, stream from :$B — $SESSIONS sessions x $WATCHERS watchers, $RATE events/s, $SECONDS_ s"
node src/bench/fanout/loadgen.mjs --target collab --base "http://127.0.0.1:$A" --stream-base "http://127.0.0.1:$B" \
    --sessions "$SESSIONS" --watchers "$WATCHERS" --rate "$RATE" --duration "$SECONDS_" --warmup 5 --project cross
